"""Per-event traces, the pure parts: flow steps from names, the event's fate, the document
built from hop records (not-matched Triggers, flows, replies followed once), its timeline,
and the hops as OpenTelemetry spans (the SDK's in-memory exporter)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ripple import keys, telemetry, traces
from ripple.cli.commands import trace as trace_cli

from channels import tracing


@pytest.mark.parametrize(
    ("name", "owner_kind", "owner_name", "flow"),
    [
        ("s-kn-sequence-0", "Sequence", "s", "Sequence s, step 0"),
        ("s-kn-sequence-12", "Sequence", "s", "Sequence s, step 12"),
        ("p-kn-parallel", "Parallel", "p", "Parallel p, ingress"),
        ("p-kn-parallel-1", "Parallel", "p", "Parallel p, branch 1 subscriber"),
        ("p-kn-parallel-filter-0", "Parallel", "p", "Parallel p, branch 0 filter"),
        ("my-kn-sequence-0", "Sequence", "other", None),  # not its owner's child
        ("s-kn-sequence-0", None, None, None),  # no owner: a user's channel of that name
        ("s-kn-sequence", "Sequence", "s", None),
        ("orders", "Channel", "orders", None),
    ],
)
def test_flow_of(name: str, owner_kind: str | None, owner_name: str | None, flow: str | None) -> None:
    found = traces.flow_of(name, owner_kind, owner_name)
    assert (str(found) if found else None) == flow


def attempt(target: str, outcome: str, at: float = 1.0, **extra: object) -> traces.Hop:
    return {"hop": "attempt", "at": at, "id": "e", "source": "/s", "target": target,  # type: ignore[typeddict-item]
            "outcome": outcome, **extra}


@pytest.mark.parametrize(
    ("hops", "fate"),
    [
        ([], "pending"),
        ([attempt("T/a", "retry")], "pending"),
        ([attempt("T/a", "retry"), attempt("T/a", "delivered")], "delivered"),
        ([attempt("T/a", "replied"), attempt("T/b", "delivered")], "delivered"),
        ([attempt("T/a", "dead-letter"), attempt("T/a", "dead-lettered")], "dead-lettered"),
        ([attempt("T/a", "delivered"), attempt("T/b", "dropped")], "dropped"),
        ([attempt("T/a", "delivered"), attempt("T/b", "dead-letter")], "pending"),
    ],
)
def test_outcome_of(hops: list[traces.Hop], fate: str) -> None:
    assert traces.outcome_of(hops) == fate


def accepted(log: str, matched: list[str], at: float, event: str = "e") -> traces.Hop:
    return {"hop": "accepted", "at": at, "id": event, "source": "/s", "type": "t", "log": log,
            "entry": f"{int(at * 1000) - 5}-0", "matched": matched}


def test_build_follows_replies_once_and_adds_what_resources_know() -> None:
    hops = {
        ("e", "/s"): [
            attempt("Subscription/ns/s-kn-sequence-0", "replied", at=3.0, reply={"id": "e", "source": "/s"}),
            accepted("broker:ns/b", ["seq"], 1.0),
            attempt("Trigger/ns/seq", "replied", at=2.0, reply={"id": "r", "source": "/r", "type": "done"}),
        ],
        ("r", "/r"): [accepted("broker:ns/b", ["done"], 4.0, event="r"),
                      attempt("Trigger/ns/done", "replied", at=5.0, reply={"id": "e", "source": "/s"})],
    }
    resources = traces.Resources(
        triggers={"broker:ns/b": ["seq", "done", "other"]},
        flows={"Subscription/ns/s-kn-sequence-0": traces.Flow("Sequence", "s", "step 0")})
    document = traces.build(("e", "/s"), hops, resources)
    assert [h["at"] for h in document["hops"]] == [1.0, 2.0, 3.0]  # a timeline: by time
    first = document["hops"][0]
    assert first["not_matched"] == ["done", "other"] and first["accepted_at"] == 0.995
    assert document["hops"][2]["flow"] == {"kind": "Sequence", "name": "s", "step": "step 0"}
    [reply] = document["replies"]  # the step's same-id reply is no branch of its own
    assert (reply["id"], reply["type"], reply["outcome"]) == ("r", "t", "delivered")
    assert reply["hops"][0]["not_matched"] == ["other", "seq"]
    assert reply["replies"] == []  # its reply is the first event again: not followed twice


def test_timeline_text() -> None:
    document = traces.build(("e", "/s"), {("e", "/s"): [
        accepted("broker:ns/b", ["t1"], 0.5),
        attempt("Trigger/ns/t1", "retry", at=1.0, phase="subscriber", url="http://x/", attempt=1,
                status=503, latency=0.0021, delay=0.2),
        attempt("Trigger/ns/t1", "retry", at=1.5, phase="subscriber", url="http://x/", attempt=2,
                status=None, latency=1.0, delay=0.4, error="timed out"),
        attempt("Trigger/ns/t1", "dead-lettered", at=2.0, phase="dead-letter", url="http://dl/",
                attempt=1, status=202, latency=0.001),
    ]}, traces.Resources(triggers={"broker:ns/b": ["t1", "t2"]}))
    assert trace_cli.render(document) == [
        "Event e  (source /s, type t)  dead-lettered",
        "  00:00:00.495  accepted   broker ns/b",
        "                matched    t1; did not match: t2",
        "  00:00:01.000  attempt 1  Trigger ns/t1 -> http://x/",
        "                503 in 2.1 ms: failed, will retry in 0.2 s",
        "  00:00:01.500  attempt 2  Trigger ns/t1 -> http://x/",
        "                no answer in 1000.0 ms (timed out): failed, will retry in 0.4 s",
        "  00:00:02.000  attempt 1  Trigger ns/t1 (dead-letter sink) -> http://dl/",
        "                202 in 1.0 ms: dead-lettered",
    ]


@pytest.mark.parametrize(("event_id", "field"), [
    ("a", "a"),
    ("x/y{z}", "x/y{z}"),
    ("ünïcode", "ünïcode"),
    ("two\nlines", '"two\\nlines"'),  # a flush sends the fields newline-separated
    ('"quoted"', '"\\"quoted\\""'),  # so an id never meets another's JSON string
    ('"', '"\\""'),
])
def test_an_event_id_is_its_own_trace_field_unless_it_would_split(event_id: str, field: str) -> None:
    assert keys.trace_field(event_id) == field
    assert "\n" not in field


@pytest.mark.parametrize("event_id", ["a", "order-1", "x/y{z}", "ünïcode"])
def test_a_trace_is_found_from_the_id_alone(event_id: str) -> None:
    shard = keys.trace_shard(event_id)
    assert keys.hash_tag(keys.trace_bucket(shard, 29_414_300)) == f"trace-{shard}"
    assert keys.hash_tag(keys.trace_buckets(shard)) == f"trace-{shard}"


def test_bucket_values_parse_oldest_first_skipping_what_is_not_a_record() -> None:
    values = [b'{"hop":"attempt","at":3.0}\n{"hop":"attempt","at":5.0}', b'{"hop":"accepted","at":1.0}\nnot json']
    assert [h["at"] for h in tracing.parse(values)] == [1.0, 3.0, 5.0]


@pytest.mark.parametrize(("sample", "share"), [(1.0, 1.0), (0.0, 0.0), (0.25, 0.25)])
def test_sampling_decides_by_id(sample: float, share: float) -> None:
    from ripple.settings import TraceSettings

    tracer = tracing.Tracer(None, TraceSettings(sample=sample))
    kept = sum(tracer.sampled(f"event-{i}") for i in range(4000)) / 4000
    assert kept == pytest.approx(share, abs=0.03)
    assert tracer.sampled("same") == tracer.sampled("same")


PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_hops_are_spans_joined_to_the_producers_traceparent() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    spans = telemetry.Spans(provider.get_tracer("test"))
    spans.record(accepted("broker:ns/b", ["t1"], 10.0), PARENT)
    spans.record(attempt("Trigger/ns/t1", "retry", at=10.5, status=503, latency=0.25, url="http://x/",
                         attempt=1, delay=0.2, phase="subscriber", type="t"), PARENT)
    spans.record(attempt("Trigger/ns/t1", "delivered", at=11.0, status=200, latency=0.1), None)
    first, second, third = exporter.get_finished_spans()
    for span in (first, second):
        assert span.context.trace_id == int(PARENT[3:35], 16)
        assert span.parent is not None and span.parent.span_id == int(PARENT[36:52], 16)
    assert (first.name, first.kind) == ("accept broker:ns/b", SpanKind.CONSUMER)
    assert first.start_time == 9_995_000_000 and first.end_time == 10_000_000_000
    assert first.attributes["ripple.matched"] == ("t1",)
    assert (second.name, second.kind) == ("deliver Trigger/ns/t1", SpanKind.CLIENT)
    assert second.end_time - second.start_time == 250_000_000
    assert second.attributes["http.response.status_code"] == 503
    assert second.attributes["cloudevents.event_id"] == "e" and second.attributes["ripple.delay"] == 0.2
    assert second.status.status_code == StatusCode.ERROR
    assert third.parent is None  # no traceparent: a trace of its own


def test_spans_only_when_an_otlp_endpoint_is_set() -> None:
    assert telemetry.spans_from_env({}) is None
    spans = telemetry.spans_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert spans is not None
