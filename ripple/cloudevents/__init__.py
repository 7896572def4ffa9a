"""The CloudEvents codec: the event model, its validation, and its wire forms.

Called by the broker ingress (`from_http`, `to_record`), the delivery engine
(`from_record`, `to_binary`, `to_structured`, `is_cloudevent`, the tracing helpers) and the
CLI (`to_json_dict`). Call sites read `ce.from_http(...)` after
`from ripple import cloudevents as ce`; the modules behind the names are private.

    event       CloudEvent, validate: the spec's attribute rules (1.0 and 0.3)
    jsonformat  the JSON event format: structured and batch bodies, to/from dicts
    http        the HTTP binding: binary, structured and batch content modes
    records     the compact form stored in a Redis stream entry
    tracing     W3C traceparent values for the distributed-tracing extension
"""

from __future__ import annotations

from ripple.cloudevents.event import CloudEvent, validate
from ripple.cloudevents.http import from_http, is_cloudevent, to_batch, to_binary, to_structured
from ripple.cloudevents.jsonformat import from_json_dict, to_json_dict
from ripple.cloudevents.records import from_record, to_record
from ripple.cloudevents.tracing import child_traceparent, is_valid_traceparent, new_traceparent

__all__ = [
    "CloudEvent",
    "child_traceparent",
    "from_http",
    "from_json_dict",
    "from_record",
    "is_cloudevent",
    "is_valid_traceparent",
    "new_traceparent",
    "to_batch",
    "to_binary",
    "to_json_dict",
    "to_record",
    "to_structured",
    "validate",
]
