"""One schema of a stream entry (`ripple.cloudevents.records`): every field name a Lua script
of the data plane spells is declared there, and the Python side writes only declared ones."""

from __future__ import annotations

import re

import pytest

from channels import appending, deadletter_scripts, fanout, queues
from ripple import cloudevents as ce
from ripple.cloudevents import records
from sources import publishing
from sources.ping import scheduler

SCRIPTS = {
    "queues._PROMOTE": queues._PROMOTE,
    "appending._APPEND": appending._APPEND,
    "appending._APPEND_ROUTED": appending._APPEND_ROUTED,
    "fanout._FAN_OUT": fanout._FAN_OUT,
    "publishing._PUBLISH_ONCE": publishing._PUBLISH_ONCE,
    "scheduler._FIRE": scheduler._FIRE,
    **{f"deadletter_scripts.{name}": script for name, script in deadletter_scripts.SCRIPTS.items()},
}
NOT_FIELDS = {"*", "-inf", "+inf", "1", "", "name", "lag", "string", "table",
              "-", "+", "(", "[", "0-0", "\\0", "\\255", "^%d+%-%d+$"}
"""Literals that are arguments or values, never field names (an auto id, a score bound,
a marker value, an empty reply, the keys of an XINFO GROUPS reply, Lua type names; stream
and lex range bounds, the index's separator and its last byte, a stream id's pattern)."""


def field_literals(script: str) -> set[str]:
    """The quoted literals of `script` that are neither a command or option (upper case)
    nor a known argument: what remains can only be a field name."""
    literals = set(re.findall(r"'([^']*)'", script))
    return {lit for lit in literals if not re.fullmatch(r"[A-Z]+", lit) and lit not in NOT_FIELDS}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_each_script_names_only_declared_fields(name: str) -> None:
    declared = {f.decode() for f in records.FIELDS}
    assert field_literals(SCRIPTS[name]) <= declared


def test_promote_counts_retries_in_the_declared_field() -> None:
    assert field_literals(queues._PROMOTE) == {records.RETRIES.decode()}


@pytest.mark.parametrize("event", [
    ce.CloudEvent({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, b"data"),
    ce.CloudEvent({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, None),
])
def test_a_record_carries_only_declared_fields(event: ce.CloudEvent) -> None:
    assert set(ce.to_record(event)) <= records.FIELDS
    assert records.PHASE in records.FIELDS and records.RETRIES in records.FIELDS


def test_a_redrive_copies_only_the_event_and_its_destination() -> None:
    assert field_literals(deadletter_scripts.REDRIVE) == {
        f.decode() for f in (*records.EVENT_FIELDS, records.DESTINATION)}
