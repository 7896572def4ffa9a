"""The JSON event format (`formats/json-format.md`): one event as one JSON object.

`http` uses it for structured and batch mode; the CLI (`ripple event tail -o json`) calls
`to_json_dict` directly. Data rules, both ways:

- `data_base64` holds bytes; `data` holds a JSON value when the datacontenttype is JSON
  (`*/json`, `*/*+json`, or absent), else a string; never both members.
- Decoded, a JSON value becomes its compact JSON bytes, a string of a non-JSON type its
  UTF-8 bytes. Encoded, bytes that are not the promised JSON or text go as `data_base64`,
  so that every event survives the trip unchanged.
- specversion 0.3 has no `data_base64`: `datacontentencoding: base64` marks `data` as a
  base64 string instead.
"""

from __future__ import annotations

import _json
import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from ripple.cloudevents import event as events
from ripple.errors import FieldError, Invalid

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_ENCODE_ASCII = json.JSONEncoder(separators=(",", ":")).encode


def _unencodable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The C encoder, made once: `JSONEncoder.encode` builds one per call (with the dict it
# tracks containers in), which was a third of what encoding an event's attributes cost.
_FLAT = _json.make_encoder(None, _unencodable, _json.encode_basestring, None, ":", ",",
                           False, False, True)


def flat_json(value: Mapping[str, object]) -> str:
    """An object of scalars (an event's attributes, headers) as compact JSON, non-ASCII kept:
    the text `JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode` gives. Without
    its circular-reference check: an object of scalars holds no container."""
    return "".join(_FLAT(value, 0))


def _reject_constant(name: str) -> Any:
    # json accepts NaN and Infinity, which are not JSON and which we could not re-emit.
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads(raw: bytes) -> Any:
    """Parse strict UTF-8 JSON, raising `Invalid` on the `body` field when it is not."""
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise Invalid(FieldError("body", f"not valid JSON: {reason}")) from None


def dumps(value: object) -> str:
    """Compact JSON text; escapes what UTF-8 cannot carry (lone surrogates) as \\uXXXX."""
    text = _ENCODE(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _ENCODE_ASCII(value)
    return text


def from_json_dict(d: object) -> events.CloudEvent:
    """Decode and validate one structured event; errors name the member that broke."""
    if not isinstance(d, dict):
        raise Invalid(FieldError("", "a structured event must be a JSON object"))
    attributes: dict[str, object] = {}
    for name, value in d.items():
        # A null attribute is an unset one; `data` is the payload, not an attribute.
        if value is not None and name != "data" and name != "data_base64":
            attributes[name] = value
    errors = events.check(attributes)
    data: bytes | None = None
    try:
        data = _decode_data(d, attributes)
    except ValueError as e:
        errors.append(FieldError(e.args[0], e.args[1]))
    if errors:
        raise Invalid(errors)
    return events.CloudEvent(attributes, data)


def _decode_data(d: dict[str, Any], attributes: dict[str, object]) -> bytes | None:
    encoded = d.get("data_base64")
    if encoded is not None:
        if "data" in d:
            raise ValueError("data_base64", "must not appear together with data")
        return _b64decode("data_base64", encoded)
    if "data" not in d:
        return None
    value = d["data"]
    if _is_base64_v03(attributes):
        return _b64decode("data", value)
    datacontenttype = attributes.get("datacontenttype")
    if isinstance(value, str) and not events.is_json_content_type(_str_or_none(datacontenttype)):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("data", "a string with a lone surrogate") from None
    # A JSON value; for a non-JSON type that is not a string we are lenient and keep JSON.
    return dumps(value).encode("utf-8")


def _b64decode(member: str, encoded: object) -> bytes:
    if not isinstance(encoded, str):
        raise ValueError(member, "must be a base64 string")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(member, "not valid base64") from None


def _is_base64_v03(attributes: dict[str, object]) -> bool:
    encoding = attributes.get("datacontentencoding")
    return (
        attributes.get("specversion") == "0.3"
        and isinstance(encoding, str)
        and encoding.lower() == "base64"
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def data_member(event: events.CloudEvent) -> tuple[str, str | None]:
    """How the event's data goes into JSON: (member name, JSON text of its value).

    The text is the data itself when it already is the JSON it claims to be, so
    structured output carries the producer's bytes unchanged; `None` when no data.
    """
    data = event.data
    if data is None:
        return "data", None
    if _is_base64_v03(event.attributes):
        return "data", '"' + base64.b64encode(data).decode("ascii") + '"'
    datacontenttype = _str_or_none(event.attributes.get("datacontenttype"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        if not events.is_json_content_type(datacontenttype):
            return "data", _ENCODE(text)
        try:
            _DECODER.decode(text)
        except (ValueError, RecursionError):
            pass
        else:
            return "data", text
    return "data_base64", '"' + base64.b64encode(data).decode("ascii") + '"'


def to_json(event: events.CloudEvent) -> str:
    """The structured JSON text of one event."""
    head = flat_json(event.attributes)
    member, value = data_member(event)
    if value is None:
        return head
    separator = "," if len(head) > 2 else ""
    return f'{head[:-1]}{separator}"{member}":{value}}}'


def to_json_dict(event: events.CloudEvent) -> dict[str, Any]:
    """The structured JSON form as a dict (what `ripple event tail -o json` prints)."""
    d: dict[str, Any] = dict(event.attributes)
    member, value = data_member(event)
    if value is not None:
        d[member] = json.loads(value)
    return d
