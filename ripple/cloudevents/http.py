"""The HTTP protocol binding (`bindings/http-protocol-binding.md`): binary, structured, batch.

The broker ingress calls `from_http` once per request (the hot path), the delivery engine
calls `to_binary`/`to_structured` to send and `is_cloudevent` + `from_http` to read a
subscriber's reply. Header names arrive lower-cased, values as ASGI servers decode them
(latin-1), so raw UTF-8 a sloppy producer put in a header still decodes right.

Binary mode maps each attribute to a `ce-<name>` header and datacontenttype to
Content-Type. Header values are percent-encoded for space, `"`, `%` and anything outside
printable ASCII; decoding also unwraps an RFC 7230 quoted string, accepts lower-case hex,
keeps a `%` that starts no escape (older producers sent it bare), and rejects bytes that
are not UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, unquote_to_bytes

from ripple.cloudevents import event as events
from ripple.cloudevents import jsonformat
from ripple.errors import FieldError, Invalid

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
_PREFIX = "application/cloudevents"

# Printable ASCII minus space, '"' and '%': what a header value may carry as is.
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')
_NEEDS_ENCODING = re.compile(r"[^\x21\x23\x24\x26-\x7e]")
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def from_http(headers: Mapping[str, str], body: bytes) -> list[events.CloudEvent]:
    """Decode the events of one HTTP message: one for binary/structured, any for batch."""
    content_type = headers.get("content-type")
    if content_type is not None and content_type[:23].lower() == _PREFIX:
        media = content_type.split(";", 1)[0].strip().lower()
        if media in (BATCH, "application/cloudevents-batch"):
            return _from_batch(jsonformat.loads(body))
        if media in (STRUCTURED, _PREFIX):
            return [jsonformat.from_json_dict(_object(jsonformat.loads(body)))]
        raise Invalid(FieldError("content-type", f"unsupported event format {media!r}"))
    return [_from_binary(headers, body, content_type)]


def _from_binary(
    headers: Mapping[str, str], body: bytes, content_type: str | None
) -> events.CloudEvent:
    attributes: dict[str, object] = {}
    for name, value in headers.items():
        if name[:3] == "ce-":
            # The fast path: a plain ASCII value needs no decoding at all.
            if "%" in value or value[:1] == '"' or not value.isascii():
                value = _decode_value(name[3:], value)
            attributes[name[3:]] = value
    if content_type is not None:
        # Content-Type is the datacontenttype; a stray ce-datacontenttype loses to it.
        attributes["datacontenttype"] = content_type
    events.validate(attributes)
    return events.CloudEvent(attributes, body or None)


def _decode_value(attribute: str, value: str) -> str:
    """Undo quoting and one round of percent-encoding; the result must be UTF-8."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:  # the caller decoded the header as UTF-8 already
        raw = value.encode("utf-8", "surrogatepass")
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # A header named just `ce-` has no attribute name: name the header instead.
        field = attribute or "ce-"
        raise Invalid(FieldError(field, "not valid UTF-8 after percent-decoding")) from None


def _object(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise Invalid(FieldError("body", "a structured event must be a JSON object"))
    return value


def _from_batch(items: object) -> list[events.CloudEvent]:
    if not isinstance(items, list):
        raise Invalid(FieldError("body", "a batch must be a JSON array of events"))
    decoded: list[events.CloudEvent] = []
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        try:
            decoded.append(jsonformat.from_json_dict(item))
        except Invalid as e:
            errors.extend(
                FieldError(f"[{i}].{f.path}" if f.path else f"[{i}]", f.message) for f in e.errors
            )
    # The binding asks every event of one batch to share its specversion.
    if not errors and decoded:
        first = decoded[0].specversion
        errors.extend(
            FieldError(f"[{i}].specversion", f"must match the batch's first event ({first!r})")
            for i, e in enumerate(decoded)
            if e.specversion != first
        )
    if errors:
        raise Invalid(errors)
    return decoded


def encode_value(value: str) -> str:
    """Percent-encode one header value where the binding says (upper-case hex)."""
    if _NEEDS_ENCODING.search(value) is None:
        return value
    return quote(value, safe=_SAFE)


def to_binary(event: events.CloudEvent) -> tuple[list[tuple[str, str]], bytes]:
    """Binary mode: `ce-*` headers plus Content-Type, and the data as the body."""
    headers: list[tuple[str, str]] = []
    content_type = None
    for name, value in event.attributes.items():
        if name == "datacontenttype":
            content_type = str(value)
            continue
        text = value if type(value) is str else events.canonical_string(value)
        headers.append(("ce-" + name, encode_value(text)))
    if content_type is not None:
        headers.append(("content-type", content_type))
    return headers, event.data if event.data is not None else b""


def to_structured(event: events.CloudEvent) -> tuple[list[tuple[str, str]], bytes]:
    """Structured mode: the whole event as one `application/cloudevents+json` body."""
    return [("content-type", STRUCTURED)], jsonformat.to_json(event).encode("utf-8")


def to_batch(batch: list[events.CloudEvent]) -> tuple[list[tuple[str, str]], bytes]:
    """Batch mode: a JSON array of structured events."""
    body = "[" + ",".join(jsonformat.to_json(e) for e in batch) + "]"
    return [("content-type", BATCH)], body.encode("utf-8")


def is_cloudevent(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether an HTTP message (a subscriber's reply) claims to carry CloudEvents.

    A structured content type counts even with an empty body, so the caller's
    `from_http` fails loudly and a malformed reply is not mistaken for no reply.
    """
    if "ce-specversion" in headers:
        return True
    content_type = headers.get("content-type")
    return content_type is not None and content_type[:23].lower() == _PREFIX
