"""PingSource (`sources.knative.dev/v1`): its names, constants and its event.

Imported by the other `ping_source_*` modules, by the sources reconciler and by the source
plane that turns each PingSource into a scheduled job. Upstream:
`knative/eventing:pkg/apis/sources/v1/ping_types.go` and `ping_lifecycle.go` (the event
type and source), the CRD `config/core/resources/pingsource.yaml`, and the multi-tenant
adapter's `pkg/adapter/mtping/runner.go` (`makeEvent`: what each tick sends).

Every tick sends one CloudEvent: type `dev.knative.sources.ping`, source
`/apis/v1/namespaces/<ns>/pingsources/<name>`, a new id, and the payload `payload` reads.
The schedule's grammar and its time zone are `ripple.cron`'s.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ripple.api.sources import source_spec

GROUP = "sources.knative.dev"
VERSION = "v1"
KIND = "PingSource"

EVENT_TYPE = "dev.knative.sources.ping"
DEFAULT_SCHEDULE = "* * * * *"  # every minute, as Knative's ping_defaults.go
# Knative checks that `data` (or decoded `dataBase64`) is a JSON object only when
# `contentType` is exactly this string.
JSON_CONTENT_TYPE = "application/json"

# `schedule`: cron, 5 fields or 6 with seconds first, with an optional CRON_TZ=<zone>
# prefix; `timezone`: an IANA name, e.g. Europe/Berlin, UTC when unset; `contentType`: the
# events' datacontenttype; `data` (as written) or `dataBase64` (base64-encoded), never
# both: the events' data. Status: the conditions, `sinkUri` and `ceAttributes`, the one
# {type, source} pair it emits.
SPEC_FIELDS = (
    "schedule", "timezone", "contentType", "data", "dataBase64", *source_spec.SPEC_FIELDS,
)


def event_source(namespace: str, name: str) -> str:
    """The CloudEvent source of every event the PingSource sends (PingSourceSource)."""
    return f"/apis/v1/namespaces/{namespace}/pingsources/{name}"


def decode_base64(text: str) -> bytes:
    """Go's `base64.StdEncoding.DecodeString`: padded, and line breaks are ignored.

    Raises `binascii.Error` when the text is not base64.
    """
    return base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)


def payload(obj: dict[str, Any]) -> tuple[str | None, bytes | None]:
    """(datacontenttype, data) of each tick's event, as Knative's `makeEvent` builds it.

    `dataBase64` decoded wins over `data` (validation refuses both). Without data the
    event has neither data nor a datacontenttype, even when `contentType` is set.
    """
    spec = obj.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    data: bytes | None = None
    encoded, text = spec.get("dataBase64"), spec.get("data")
    if isinstance(encoded, str) and encoded:
        try:
            data = decode_base64(encoded)
        except binascii.Error:  # admission refuses it; Knative sends no data then
            data = None
    elif isinstance(text, str) and text:
        data = text.encode()
    content_type = spec.get("contentType")
    if data is None or not isinstance(content_type, str) or not content_type:
        return None, data
    return content_type, data
