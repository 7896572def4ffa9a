"""Kafka record -> CloudEvent, as KafkaSource's dispatcher does it. Pure; called by
`sources.kafka.adapter` once per consumed record.

A record that already is a CloudEvent under the Kafka protocol binding passes through:
- structured: a `content-type` header of `application/cloudevents+json` (parameters
  allowed), the whole event as the JSON value;
- binary: a `ce_specversion` header; every `ce_<name>` header is attribute `<name>` (UTF-8,
  no percent-decoding in this binding), `content-type` is the datacontenttype, the value
  is the data.

Any other record is wrapped (eventing-kafka-broker's `InvalidCloudEventInterceptor`): type
`dev.knative.kafka.event`, source `/apis/v1/namespaces/<ns>/kafkasources/<name>#<topic>`,
subject `partition:<p>#<offset>`, id `partition:<p>/offset:<offset>`, time the record
timestamp in UTC, the key as extensions `key` and `partitionkey`, every other header as
`kafkaheader<name>` and `content-type` (lower-cased) as the datacontenttype.

A record that claims a binding but breaks it (a `ce_specversion` header without `ce_id`,
an unknown specversion, a structured value that is not a valid event) is wrapped too:
upstream's `CloudEventDeserializer` turns every deserialization failure into an
`InvalidCloudEvent`, which the interceptor wraps, its `ce_` headers becoming
`kafkaheaderce...` extensions like any other header. Nothing is ever dropped for shape.

Then `ceOverrides.extensions` are set on every event, passed through or wrapped
(upstream's `CloudEventOverridesMutator`), overwriting what was there.
"""

from __future__ import annotations

import base64
import datetime as dt
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ripple import cloudevents as ce
from ripple.api.sources import kafka_source_types
from ripple.errors import Invalid

STRUCTURED = "application/cloudevents+json"
CONTENT_TYPE = "content-type"
BINARY_PREFIX = "ce_"
HEADER_PREFIX = "kafkaheader"

Header = tuple[str, "bytes | None"]


class KafkaRecord(Protocol):
    """What the conversion reads of a record; aiokafka's `ConsumerRecord` has it all."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int | None: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[Header]: ...


@dataclass(frozen=True)
class Record:
    """A plain record, for tests and for callers that hold no aiokafka record."""

    topic: str
    partition: int
    offset: int
    value: bytes | None = None
    key: bytes | None = None
    headers: Sequence[Header] = ()
    timestamp: int | None = None
    """Milliseconds since the epoch (Kafka's CreateTime or LogAppendTime)."""


@dataclass(frozen=True)
class Origin:
    """The KafkaSource the records belong to, and how it reads keys."""

    namespace: str
    name: str
    key_type: str = kafka_source_types.DEFAULT_KEY_TYPE
    extensions: Mapping[str, str] = field(default_factory=dict)
    """`ceOverrides.extensions`."""


def to_event(record: KafkaRecord, origin: Origin) -> ce.CloudEvent:
    """The event to deliver for `record`."""
    event = from_binding(record) or wrap(record, origin)
    if origin.extensions:
        event.attributes.update(origin.extensions)
    return event


def from_binding(record: KafkaRecord) -> ce.CloudEvent | None:
    """The record's own CloudEvent, or None when it is not a valid binding event."""
    headers = record.headers or ()
    content_type = _content_type(headers)
    try:
        if content_type is not None and content_type.split(";", 1)[0].strip().lower() == STRUCTURED:
            return ce.from_http({"content-type": STRUCTURED}, record.value or b"")[0]
        if not any(name == BINARY_PREFIX + "specversion" for name, _ in headers):
            return None
        attributes: dict[str, object] = {
            name[len(BINARY_PREFIX):]: (value or b"").decode("utf-8")
            for name, value in headers if name.startswith(BINARY_PREFIX)
        }
    except (Invalid, UnicodeDecodeError):
        return None
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    try:
        ce.validate(attributes)
    except Invalid:
        return None
    return ce.CloudEvent(attributes, record.value)


def wrap(record: KafkaRecord, origin: Origin) -> ce.CloudEvent:
    """A new event around a record that is not a CloudEvent."""
    attributes: dict[str, object] = {
        "specversion": "1.0",
        "id": f"partition:{record.partition}/offset:{record.offset}",
        "source": kafka_source_types.event_source(origin.namespace, origin.name, record.topic),
        "type": kafka_source_types.EVENT_TYPE,
        "subject": f"partition:{record.partition}#{record.offset}",
    }
    if record.timestamp is not None and record.timestamp >= 0:
        attributes["time"] = format_time(record.timestamp)
    key = typed_key(record.key, origin.key_type)
    if key is not None:
        attributes["partitionkey"] = attributes["key"] = key
    content_type = None
    for name, value in record.headers or ():
        text = (value or b"").decode("utf-8", "replace")
        if name.lower() == CONTENT_TYPE:
            content_type = text  # carried as the datacontenttype, not as an extension
        else:
            attributes[header_extension(name)] = text
    if content_type is not None:
        attributes["datacontenttype"] = content_type.lower()
    return ce.CloudEvent(attributes, record.value)


def typed_key(key: bytes | None, key_type: str) -> str | int | None:
    """The key as upstream's `KeyDeserializer` reads it. `int` takes a 4-byte big-endian
    integer and `float` a 4- or 8-byte IEEE 754 one, else both fall back to the string;
    `byte-array` is base64 (the CloudEvents Binary type on the wire). A float has no
    CloudEvents type, so it is its shortest decimal text (`1.5`), as Java prints it. No
    key, or an empty one, gives no extension."""
    if not key:
        return None
    if key_type == "int" and len(key) == 4:
        return int(struct.unpack(">i", key)[0])
    if key_type == "float" and len(key) in (4, 8):
        return _float_text(key)
    if key_type == "byte-array":
        return base64.b64encode(key).decode("ascii")
    return key.decode("utf-8", "replace")


def _float_text(key: bytes) -> str:
    if len(key) == 8:
        return repr(struct.unpack(">d", key)[0])
    value = struct.unpack(">f", key)[0]
    for digits in range(1, 10):  # the shortest text that reads back as the same float32
        text = f"{value:.{digits}g}"
        if struct.unpack(">f", struct.pack(">f", float(text)))[0] == value:
            return repr(float(text))
    return repr(value)  # NaN never equals itself


def header_extension(name: str) -> str:
    """`kafkaheader` plus the header name lower-cased, with only [a-z0-9] kept."""
    return HEADER_PREFIX + "".join(c for c in name.lower() if "a" <= c <= "z" or "0" <= c <= "9")


def format_time(timestamp_ms: int) -> str:
    """RFC 3339 in UTC with the milliseconds the record carries: `...T12:00:00.5Z`."""
    moment = dt.datetime.fromtimestamp(timestamp_ms // 1000, dt.UTC)
    millis = timestamp_ms % 1000
    fraction = f".{millis:03d}".rstrip("0") if millis else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _content_type(headers: Iterable[Header]) -> str | None:
    found = None
    for name, value in headers:
        if name.lower() == CONTENT_TYPE:
            found = (value or b"").decode("utf-8", "replace")
    return found
