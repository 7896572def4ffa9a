"""The pure parts of the dead-letter store's scripts (`channels.deadletter_scripts`) and of
the command that adds to a store (`channels.deadletters.adding`)."""

from __future__ import annotations

import pytest

from channels import deadletter_scripts as scripts
from channels import deadletters, locations
from ripple import keys
from ripple.api.dead_letter_bounds import Bounds
from ripple.cloudevents import records


@pytest.mark.parametrize("text, wanted", [
    ("1764000000000-0", True),
    ("0-1", True),
    ("18446744073709551615-18446744073709551615", True),   # the largest stream id
    ("18446744073709551616-0", False),                     # past 64 bits: an error reply
    ("1764000000000", False),                              # XRANGE would read a whole millisecond
    ("1764000000000-", False),
    ("-0", False),
    ("e1", False),
    ("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", False),
    ("partition:0/offset:7", False),                       # a Kafka record's event id
    ("1-0 ", False),
    ("", False),
])
def test_only_a_whole_stream_id_is_a_store_id(text: str, wanted: bool) -> None:
    assert scripts.is_store_id(text) is wanted


@pytest.mark.parametrize("fields, wanted", [
    ({records.ID: b"e1", records.ATTRIBUTES: b'{"id":"other"}'}, b"e1"),   # `i` first, as the scripts
    ({records.ATTRIBUTES: b'{"id":"e2","type":"t"}'}, b"e2"),               # a record older than `i`
    ({records.ATTRIBUTES: b'{"id":7}'}, b"7"),                              # as Lua's tostring has it
    ({records.ATTRIBUTES: b'{"type":"t"}'}, None),
    ({records.ATTRIBUTES: b"not json"}, None),
    ({records.ATTRIBUTES: b"[1]"}, None),
    ({}, None),
])
def test_an_entrys_event_id(fields: records.Fields, wanted: bytes | None) -> None:
    assert scripts.event_id_of(fields) == wanted
    assert deadletters.event_id(fields) == (wanted.decode() if wanted else "")


@pytest.mark.parametrize("event_id, store_id, member", [
    (b"e1", b"1-0", b"e1\x001-0"),
    (b"partition:0/offset:7", b"17-3", b"partition:0/offset:7\x0017-3"),
])
def test_an_index_member_sorts_by_event_id(event_id: bytes, store_id: bytes, member: bytes) -> None:
    assert scripts.index_member(event_id, store_id) == member
    assert scripts.COMPLETE < member  # the marker sorts first: never an event id's range


WHERE = locations.of_trigger("ns", "b", "t")
STORE = deadletters.of(WHERE, Bounds(max_entries=10, retention=60.0))
RECORD = {records.ATTRIBUTES: b'{"id":"e1"}', records.ID: b"e1", records.ERROR_CODE: b"500"}


@pytest.mark.parametrize("queue, wanted_keys, queue_entry", [
    ((WHERE.stream, b"5-0"), [WHERE.dead_letters, WHERE.dead_letter_index, WHERE.failures, WHERE.stream], b"5-0"),
    (None, [WHERE.dead_letters, WHERE.dead_letter_index, WHERE.failures], b""),  # a Kafka record
])
def test_the_add_command(queue: tuple[str, bytes] | None, wanted_keys: list[str], queue_entry: bytes) -> None:
    command = deadletters.adding(STORE, RECORD, last_error=b"{}", now=1000.0, queue=queue)
    assert command[:2] == ("EVAL", scripts.ADD)
    count = command[2]
    assert list(command[3:3 + count]) == wanted_keys
    assert len({keys.hash_tag(k) for k in wanted_keys}) == 1  # one Cluster slot
    assert list(command[3 + count:]) == [
        10, "940000-0", scripts.TRIM_BATCH, "t", "t/dead-lettered", b"{}", queue_entry, keys.DELIVERY_GROUP,
        b"e1", records.ATTRIBUTES, b'{"id":"e1"}', records.ID, b"e1", records.ERROR_CODE, b"500"]
