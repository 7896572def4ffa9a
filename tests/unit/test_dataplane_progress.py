"""What "every data-plane process has seen it" means, from the processes' reports."""

from __future__ import annotations

import json

import pytest

from controllers.reconciling import DataPlane
from ripple import dataplane

NOW = 1_000_000.0


def entry(version: int, age: float) -> bytes:
    return json.dumps({"version": version, "at": NOW - age}).encode()


@pytest.mark.parametrize("entries, wanted", [
    ({}, None),
    ({b"a": entry(7, 0)}, 7),
    ({b"a": entry(7, 0), b"b": entry(5, 1)}, 5),  # the slowest live process decides
    ({b"a": entry(7, 0), b"b": entry(5, dataplane.TTL + 1)}, 7),  # a dead one is forgotten
    ({b"a": entry(7, dataplane.TTL + 1)}, None),
    ({b"a": b"not json", b"b": entry(3, 0)}, 3),
    ({b"a": json.dumps({"at": NOW}).encode()}, None),
])
def test_synced_is_the_smallest_live_version(entries: dict[bytes, bytes], wanted: int | None) -> None:
    assert dataplane.synced(entries, NOW) == wanted


@pytest.mark.parametrize("synced, version, seen", [
    (None, "1", False),  # nothing reports: nothing routes
    (5, "5", True),
    (5, "6", False),
    (5, None, True),  # never stored: a test fixture
])
def test_has_seen(synced: int | None, version: str | None, seen: bool) -> None:
    obj = {"metadata": {"resourceVersion": version} if version else {}}
    assert DataPlane(synced=synced).has_seen(obj) is seen


@pytest.mark.parametrize("age_s, wanted", [(0, 0.05), (4, 0.05), (6, 1.0), (3600, 1.0)])
def test_a_waiting_object_is_looked_at_less_often_as_it_waits(age_s: int, wanted: float) -> None:
    import datetime as dt

    from controllers.reconcilers import waiting
    from controllers.reconciling import Context, ObservedList

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    created = (now - dt.timedelta(seconds=age_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
    obj = {"metadata": {"creationTimestamp": created}}
    assert waiting.again(obj, Context(ObservedList([]), now, "http://x")) == wanted
