"""The CloudEvent model and its validation against the CloudEvents spec (1.0, and 0.3).

Every decoder of this package (`http`, `jsonformat`) builds a `CloudEvent` and calls
`validate` before handing it out; the broker ingress relies on that to answer 400 with the
broken field. `records` skips validation because the stream only holds events that passed
it. The rules come from `cloudevents/spec.md`: required attributes, the naming
convention, the type system (String, Integer, Boolean, URI, URI-reference, Timestamp).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ripple.errors import FieldError, Invalid

SPECVERSIONS = ("1.0", "0.3")
REQUIRED = ("specversion", "id", "source", "type")

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

# The String type forbids control characters, Unicode noncharacters and lone
# surrogates (json.loads joins valid pairs, so any surrogate left in a str is lone).
_NONCHARACTERS = "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(1, 17))
_BAD_CHARS = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff\\ufdd0-\\ufdef\\ufffe\\uffff" + _NONCHARACTERS + "]"
)
# RFC 2045 token "/" token, parameters checked loosely: what matters is the media type.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}[ \t]*(?:;.*)?", re.ASCII | re.DOTALL)
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:", re.ASCII)
# RFC 3339 date-time with the field ranges in the pattern, so that the hot path does no
# int() conversions; second 60 is the leap second.
_TIMESTAMP = re.compile(
    r"(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12]\d|3[01])"
    r"[Tt](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# Attributes of type String whose value must be non-empty when present.
_NON_EMPTY = {
    "id": "required, a non-empty string",
    "type": "required, a non-empty string",
    "source": "required, a non-empty URI-reference",
    "subject": "if present, a non-empty string",
}
_CORE_V1 = frozenset(
    ("specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time")
)
# 0.3 names its schema attribute differently and has an encoding for string-borne data.
_CORE_V03 = _CORE_V1 - {"dataschema"} | {"schemaurl", "datacontentencoding"}


@dataclass(slots=True)
class CloudEvent:
    """One event: its context attributes (extensions included) and its data as bytes.

    Attribute values are str, int or bool: the JSON-format types. Events decoded from
    HTTP binary mode carry every value as str, because headers have no types.
    """

    attributes: dict[str, object]
    data: bytes | None = None

    @property
    def id(self) -> str:
        return str(self.attributes["id"])

    @property
    def source(self) -> str:
        return str(self.attributes["source"])

    @property
    def type(self) -> str:
        return str(self.attributes["type"])

    @property
    def specversion(self) -> str:
        return str(self.attributes["specversion"])


def validate(attributes: Mapping[str, object]) -> None:
    """Raise `Invalid` listing every broken rule, each naming its attribute."""
    errors = check(attributes)
    if errors:
        raise Invalid(errors)


def check(attributes: Mapping[str, object]) -> list[FieldError]:
    """The broken rules of `attributes`, empty when the event is valid."""
    errors: list[FieldError] = []
    specversion = attributes.get("specversion")
    if not specversion or not isinstance(specversion, str):
        errors.append(FieldError("specversion", "required, a non-empty string"))
    elif specversion not in SPECVERSIONS:
        errors.append(
            FieldError("specversion", f'unsupported {specversion!r}: must be "1.0" or "0.3"')
        )
    for name in REQUIRED[1:]:
        if name not in attributes:
            errors.append(FieldError(name, _NON_EMPTY[name]))
    core = _CORE_V03 if specversion == "0.3" else _CORE_V1
    for name, value in attributes.items():
        if name not in core and not is_attribute_name(name):
            errors.append(FieldError(name, _name_rule(name)))
        elif type(value) is str:
            rule = _check_string(name, value, specversion)
            if rule:
                errors.append(FieldError(name, rule))
        elif name in core:
            if name != "specversion":  # already reported above
                errors.append(FieldError(name, "must be a string"))
        elif type(value) is int:
            if not _INT_MIN <= value <= _INT_MAX:
                errors.append(FieldError(name, "an integer must fit in 32 bits (signed)"))
        elif type(value) is not bool:
            errors.append(FieldError(name, "must be a string, an integer or a boolean"))
    return errors


def is_attribute_name(name: str) -> bool:
    """Lower-case ASCII letters and digits only, and not the reserved `data`."""
    return name.isascii() and name.isalnum() and name.lower() == name and name != "data"


def _name_rule(name: str) -> str:
    if name == "data":
        return "reserved: 'data' is not an attribute name"
    if not name:
        return "an attribute name must not be empty (a header named just 'ce-', or a \"\" member)"
    return "an attribute name must be lower-case letters a-z and digits 0-9 only"


def _check_string(name: str, value: str, specversion: object) -> str | None:
    """The broken rule of one string value, or None. Ordered by how often names occur."""
    # For ASCII (nearly every value) isprintable() is exactly "no control character".
    bad = not value.isprintable() if value.isascii() else _BAD_CHARS.search(value) is not None
    if bad:
        return "contains a control character, a Unicode noncharacter or a lone surrogate"
    if name in _NON_EMPTY:
        return None if value else _NON_EMPTY[name]
    if name == "time":
        return None if is_timestamp(value) else f"not an RFC 3339 timestamp: {value!r}"
    if name == "datacontenttype":
        return None if is_media_type(value) else f"not an RFC 2046 media type: {value!r}"
    if name == "dataschema" and specversion != "0.3":
        return None if _is_uri(value) else "if present, a non-empty absolute URI"
    if name == "schemaurl" and specversion == "0.3" and not value:
        return "if present, a non-empty URI-reference"
    return None


def is_timestamp(value: str) -> bool:
    """Whether `value` is an RFC 3339 date-time: seconds required, offset Z or +hh:mm."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return False
    day = match["day"]
    if day <= "28":  # the regex already bounds it; only month ends need arithmetic
        return True
    year, month = int(match["year"]), int(match["month"])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return int(day) <= (_DAYS[month - 1] if month != 2 or leap else 28)


@functools.lru_cache(maxsize=512)
def is_media_type(value: str) -> bool:
    """Whether `value` is `type/subtype` with optional parameters (RFC 2045/2046)."""
    return _MEDIA_TYPE.fullmatch(value) is not None


@functools.lru_cache(maxsize=512)
def is_json_content_type(datacontenttype: str | None) -> bool:
    """Whether data of this content type is JSON: `*/json`, `*/*+json`, or unset.

    The JSON format treats an absent datacontenttype as application/json.
    """
    if datacontenttype is None:
        return True
    media = datacontenttype.split(";", 1)[0].strip().lower()
    return media.endswith("/json") or media.endswith("+json")


def _is_uri(value: str) -> bool:
    # An absolute URI has a scheme; whitespace never appears in one.
    return _URI_SCHEME.match(value) is not None and not any(c.isspace() for c in value)


def canonical_string(value: object) -> str:
    """The canonical string encoding of an attribute value (booleans are `true`/`false`)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)
