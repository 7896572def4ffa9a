"""OpenTelemetry spans for event hops, when the SDK is installed (the `otel` extra) and
`OTEL_EXPORTER_OTLP_ENDPOINT` is set; the OTLP/HTTP exporter reads the standard `OTEL_*`
variables itself.

Called by `channels.tracing` with each hop record (`ripple.traces.Hop`) and the event's
W3C `traceparent`: the span is a child of the producer's span (the CloudEvents
distributed-tracing extension), so a trace viewer shows the broker's and the subscribers'
work under the request that produced the event. Times come from the record, so a span
covers what the hop measured: from the ingress's append to the fan-out for `accepted`, the
HTTP exchange for `attempt`. Third-party types stay in this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ripple import traces
from ripple.cloudevents import tracing

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"


class Spans:
    """Turns hop records into spans on one OpenTelemetry `Tracer`."""

    def __init__(self, tracer: Any) -> None:
        from opentelemetry import trace

        self._trace, self.tracer = trace, tracer

    def record(self, hop: traces.Hop, traceparent: object) -> None:
        trace = self._trace
        context = None
        if isinstance(traceparent, str) and tracing.is_valid_traceparent(traceparent):
            parent = trace.SpanContext(trace_id=int(traceparent[3:35], 16),
                                       span_id=int(traceparent[36:52], 16), is_remote=True,
                                       trace_flags=trace.TraceFlags(int(traceparent[53:55], 16)))
            context = trace.set_span_in_context(trace.NonRecordingSpan(parent))
        if hop.get("hop") == traces.ACCEPTED:
            name, kind = f"accept {hop.get('log', '')}", trace.SpanKind.CONSUMER
            entry = hop.get("entry", "")
            start = float(entry.split("-")[0]) / 1000 if "-" in entry else hop.get("at", 0.0)
            end = hop.get("at", start)
        else:
            name, kind = f"deliver {hop.get('target', '')}", trace.SpanKind.CLIENT
            start = hop.get("at", 0.0)
            end = start + hop.get("latency", 0.0)
        span = self.tracer.start_span(name, context=context, kind=kind, start_time=int(start * 1e9),
                                      attributes=_attributes(hop))
        if hop.get("outcome") in ("retry", "dead-letter", "dropped"):
            span.set_status(trace.Status(trace.StatusCode.ERROR, hop.get("error") or hop.get("outcome")))
        span.end(end_time=int(max(end, start) * 1e9))


def _attributes(hop: traces.Hop) -> dict[str, Any]:
    # The OpenTelemetry CloudEvents and HTTP semantic conventions, then Ripple's own.
    attributes: dict[str, Any] = {"cloudevents.event_id": hop.get("id", ""),
                                  "cloudevents.event_source": hop.get("source", "")}
    if hop.get("type"):
        attributes["cloudevents.event_type"] = hop["type"]
    if hop.get("status") is not None:
        attributes["http.response.status_code"] = hop["status"]
    if hop.get("url"):
        attributes["url.full"] = hop["url"]
    for name in ("outcome", "phase", "attempt", "delay", "log", "target"):
        if hop.get(name) is not None:
            attributes[f"ripple.{name}"] = hop[name]
    if hop.get("matched") is not None:
        attributes["ripple.matched"] = list(hop.get("matched", []))
    if hop.get("reply"):
        attributes["ripple.reply.id"] = hop["reply"].get("id", "")
    return attributes


def spans_from_env(environ: Mapping[str, str] = os.environ, *, service: str = "ripple") -> Spans | None:
    """Spans exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and the SDK is
    installed; None otherwise (then hops are recorded in Redis only)."""
    if not environ.get(ENDPOINT):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME", service)}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return Spans(provider.get_tracer("ripple"))
