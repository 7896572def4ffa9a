"""The cloudevents/conformance JSON-format vectors and HTTP-binding scenarios, as tables.

Each vector becomes one test id `<file>:<case>`, so a failure names the case. The vectors
live in the steering repo's `shared/testdata` (next to the clone in CI); without it the
vector tests skip and the hand-copied HTTP scenarios still run.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ripple import cloudevents as ce
from ripple.errors import Invalid

VECTORS = (
    Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "cloudevents-conformance"
)
_PREFIX = "cloudevents-conformance__format_json_"


def _cases(kind: str, member: str) -> list[Any]:
    """One pytest.param per test of every `<prefix><kind>.json` file."""
    if not VECTORS.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"no {VECTORS}"))]
    params = []
    for path in sorted(VECTORS.glob(f"{_PREFIX}{kind}.json")):
        short = path.name.removeprefix(_PREFIX)
        for case in json.loads(path.read_text())["tests"]:
            params.append(
                pytest.param(case[member], case.get("sampleId"), id=f"{short}:{case['id']}")
            )
    return params


def _post(content_type: str, payload: object) -> list[ce.CloudEvent]:
    return ce.from_http({"content-type": content_type}, json.dumps(payload).encode())


@pytest.mark.parametrize(("event", "sample"), _cases("valid-events", "event"))
def test_valid_event_parses(event: dict[str, Any], sample: str) -> None:
    [parsed] = _post("application/cloudevents+json", event)
    assert parsed == ce.from_json_dict(event)
    for name, value in event.items():
        if value is not None and name != "data":
            assert parsed.attributes[name] == value


@pytest.mark.parametrize(("batch", "sample"), _cases("valid-batches", "batch"))
def test_valid_batch_parses(batch: list[dict[str, Any]], sample: str) -> None:
    parsed = _post("application/cloudevents-batch+json", batch)
    assert [e.id for e in parsed] == [e["id"] for e in batch]


@pytest.mark.parametrize(("event", "sample"), _cases("invalid-events", "event"))
def test_invalid_event_is_rejected(event: dict[str, Any], sample: None) -> None:
    with pytest.raises(Invalid) as raised:
        _post("application/cloudevents+json", event)
    assert raised.value.errors and all(e.path for e in raised.value.errors)


@pytest.mark.parametrize(("batch", "sample"), _cases("invalid-batches", "batch"))
def test_invalid_batch_is_rejected(batch: list[Any], sample: None) -> None:
    with pytest.raises(Invalid) as raised:
        _post("application/cloudevents-batch+json", batch)
    assert all(e.path.startswith("[") for e in raised.value.errors)


def _instant(event: ce.CloudEvent) -> dict[str, object]:
    # The vectors say timestamps compare by instant: offset and precision do not matter.
    attributes = dict(event.attributes)
    if "time" in attributes:
        attributes["time"] = datetime.fromisoformat(str(attributes["time"]))
    return attributes


def test_vectors_of_one_sample_decode_to_one_event() -> None:
    if not VECTORS.is_dir():
        pytest.skip(f"no {VECTORS}")
    by_sample: dict[str, list[dict[str, object]]] = {}
    for param in _cases("valid-events", "event"):
        event, sample = param.values
        by_sample.setdefault(sample, []).append(_instant(ce.from_json_dict(event)))
    assert len(by_sample["minimalWithTime"]) == 4
    for sample, decoded in by_sample.items():
        assert all(d == decoded[0] for d in decoded), sample


# features/http-protocol-binding.feature, copied as a table.
_FEATURE_ATTRIBUTES = {
    "id": "1234-1234-1234",
    "specversion": "1.0",
    "type": "com.example.someevent",
    "source": "/mycontext/subcontext",
    "time": "2018-04-05T03:56:24Z",
}
_FEATURE_DATA = {"message": "Hello World!"}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_feature_binary_content_mode(content_type: str) -> None:
    headers = {f"ce-{k}": v for k, v in _FEATURE_ATTRIBUTES.items()}
    headers |= {"content-type": content_type, "content-length": "33", "host": "example.com"}
    body = b'{\n    "message": "Hello World!"\n}\n'
    [event] = ce.from_http(headers, body)
    assert event.attributes == _FEATURE_ATTRIBUTES | {"datacontenttype": content_type}
    assert json.loads(event.data or b"") == _FEATURE_DATA


@pytest.mark.parametrize(
    "content_type", ["application/cloudevents+json", "application/cloudevents+json; charset=utf-8"]
)
def test_feature_structured_content_mode(content_type: str) -> None:
    body = dict(_FEATURE_ATTRIBUTES, datacontenttype="application/json", data=_FEATURE_DATA)
    [event] = _post(content_type, body)
    assert event.attributes == _FEATURE_ATTRIBUTES | {"datacontenttype": "application/json"}
    assert json.loads(event.data or b"") == _FEATURE_DATA
