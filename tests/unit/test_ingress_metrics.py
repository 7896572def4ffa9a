"""What the ingress records in `kn_eventing_ingress_events`: a bounded set of children, whatever
paths and types producers send."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter

from channels.ingress import Ingress
from ripple import metrics
from ripple.settings import IngressSettings


class FakeAppender:
    def __init__(self) -> None:
        self.records: list[tuple[str, Any]] = []

    async def append(self, stream: str, fields: Any) -> bytes:
        self.records.append((stream, fields))
        return b"1-0"


async def post(ingress: Ingress, path: str, type_: str = "t", method: str = "POST") -> int:
    headers = [(b"ce-specversion", b"1.0"), (b"ce-id", b"1"), (b"ce-source", b"/s"),
               (b"ce-type", type_.encode()), (b"content-type", b"application/json")]
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await ingress(scope, receive, send)
    return int(sent[0]["status"])


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """A private counter behind a small cache (2 types), in place of the process-wide one."""
    counter = Counter("test_ingress_events", "doc", metrics.INGRESS_LABELS,
                      registry=CollectorRegistry())
    cache = metrics.LabelCache(lambda v: counter.labels(*v),
                               type_index=metrics.INGRESS_LABELS.index("cloudevents_type"),
                               type_limit=2)
    monkeypatch.setattr(metrics, "ingress_children", cache)
    return counter


def children(counter: Counter) -> dict[tuple[str, ...], float]:
    return {tuple(s.labels[n] for n in metrics.INGRESS_LABELS): s.value
            for s in counter.collect()[0].samples if s.name.endswith("_total")}


def ingress() -> Ingress:
    streams = {("ns", "b"): "log:{ns/b}"}
    return Ingress(lambda ns, name: streams.get((ns, name)), FakeAppender(),  # type: ignore[arg-type]
                   IngressSettings())


async def test_accepted_events_are_counted_by_type(counter: Counter) -> None:
    front = ingress()
    assert [await post(front, "/ns/b", t) for t in ("a", "a", "b")] == [202, 202, 202]
    assert children(counter) == {("ns", "b", "", "a", "202"): 2.0, ("ns", "b", "", "b", "202"): 1.0}


async def test_types_past_the_limit_are_counted_as_other(counter: Counter) -> None:
    front = ingress()
    for i in range(50):
        assert await post(front, "/ns/b", f"type-{i}") == 202
    assert children(counter) == {("ns", "b", "", "type-0", "202"): 1.0,
                                 ("ns", "b", "", "type-1", "202"): 1.0,
                                 ("ns", "b", "", metrics.OTHER_TYPE, "202"): 48.0}


async def test_made_up_addresses_are_answered_but_not_counted(counter: Counter) -> None:
    front = ingress()
    for i in range(20):
        assert await post(front, f"/ns{i}/b{i}") == 404
        assert await post(front, f"/ns{i}/b{i}", method="GET") == 405
    assert await post(front, "/ns/b", method="GET") == 405
    assert children(counter) == {("ns", "b", "", "", "405"): 1.0}


async def test_a_channels_ingress_names_the_channel_not_a_broker(counter: Counter) -> None:
    front = Ingress(lambda ns, name: "log:{ns/c}" if (ns, name) == ("ns", "c") else None,
                    FakeAppender(), IngressSettings(), kind="channel")  # type: ignore[arg-type]
    assert await post(front, "/ns/c", "a") == 202
    assert children(counter) == {("ns", "", "c", "a", "202"): 1.0}
