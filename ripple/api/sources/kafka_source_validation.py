"""KafkaSource validation (eventing-kafka-broker's `sources/v1beta1/kafka_validation.go`),
run by `loading.admit`.

`validate` checks upstream's rules and the CRD schema's, naming the field:
- `bootstrapServers`: required, at least one, each `host:port` (an item may hold several,
  comma-separated, since Knative joins the list with commas);
- `topics`: required, at least one, each a legal Kafka topic name (Ripple's addition:
  upstream admits any string, and the consumer then fails);
- `consumerGroup`: a non-empty string; `consumers`: 1 or more (Ripple's; upstream's CRD
  only says int32); `initialOffset`: earliest | latest; `ordering`: ordered | unordered;
- `delivery`: a DeliverySpec (`duck.validate_delivery`);
- `net.sasl` and `net.tls`: only their shape (`enable` a boolean, each other field a
  `secretKeyRef`), since Ripple does not use them yet (see `kafka_source_types`);
- the `kafkasources.sources.knative.dev/key-type` label: string, int, float or
  byte-array. Upstream refuses a bad one only later, when the reconciler creates the
  consumer group; Ripple refuses it at admission;
- `sink` and `ceOverrides`: `source_spec.validate`.

`validate_update`: `consumerGroup` is immutable, as upstream. An object stored without one
(it is then `kafka_source_types.default_consumer_group`) may be given the default.
"""

from __future__ import annotations

import re
from typing import Any

from ripple.api import dead_letter_bounds, duck, fields, meta
from ripple.api.sources import github_source_validation as shared
from ripple.api.sources import kafka_source_types as types
from ripple.api.sources import source_spec
from ripple.errors import FieldError

KEY_TYPE_PATH = fields.key("metadata.labels", types.KEY_TYPE_LABEL)
_HOST = re.compile(r"[0-9A-Za-z%._-]+|\[[0-9A-Fa-f:.%A-Za-z]+\]")
_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")
TOPIC_RULE = ("a Kafka topic name is 1 to 249 ASCII letters, digits, '.', '_' or '-', and "
              "not '.' or '..'")


def validate(source: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(source)
    errs.extend(dead_letter_bounds.validate(source))  # the store's `ripple.dev/dead-letter-*`
    key_type = meta.labels_of(source).get(types.KEY_TYPE_LABEL)
    if isinstance(key_type, str) and key_type not in types.KEY_TYPES:
        errs.append(FieldError(KEY_TYPE_PATH, (
            f'invalid value "{key_type}": must be one of {", ".join(types.KEY_TYPES)}')))
    spec = fields.mapping(source.get("spec"), "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, types.SPEC_FIELDS, "spec", errs)
    for item, path in _items(spec, "bootstrapServers", "Kafka bootstrap server", errs):
        for server in item.split(","):
            _validate_server(server.strip(), item, path, errs)
    for topic, path in _items(spec, "topics", "topic", errs):
        if not _TOPIC.fullmatch(topic) or topic in (".", ".."):
            errs.append(FieldError(path, f'invalid value "{topic}": {TOPIC_RULE}'))
    if fields.present(spec, "consumerGroup"):
        fields.string(spec["consumerGroup"], "spec.consumerGroup", errs, nonempty=True)
    _validate_choice(spec, "initialOffset", types.INITIAL_OFFSETS, errs)
    _validate_choice(spec, "ordering", types.ORDERINGS, errs)
    if fields.present(spec, "consumers"):
        consumers = fields.integer(spec["consumers"], "spec.consumers", errs)
        if consumers is not None and not 1 <= consumers <= duck.INT32_MAX:
            errs.append(FieldError("spec.consumers", (
                f"invalid value {consumers}: must be a whole number of consumers, "
                f"1 to {duck.INT32_MAX}")))
    if fields.present(spec, "delivery"):
        errs.extend(duck.validate_delivery(spec["delivery"], "spec.delivery"))
    if fields.present(spec, "net"):
        _validate_net(spec["net"], "spec.net", errs)
    source_spec.validate(spec, "spec", errs)
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    before, after = types.consumer_group(old), types.consumer_group(new)
    if before == after:
        return []
    return [FieldError("spec.consumerGroup", (
        f'field is immutable: was "{before}", now "{after}"; the consumer group holds the '
        "source's committed offsets, so delete and recreate the KafkaSource to change it"))]


def _items(
    spec: dict[str, Any], name: str, what: str, errs: fields.Errors
) -> list[tuple[str, str]]:
    """The strings of a required, non-empty list, each with its path."""
    path = fields.join("spec", name)
    found = fields.required(spec, name, "spec", errs)
    if found is None:
        return []
    if not isinstance(found, list):
        errs.append(FieldError(path, fields.wrong_type(f"a list of {what}s", found)))
        return []
    if not found:
        errs.append(FieldError(path, f"must not be empty: give at least one {what}"))
    items = []
    for i, item in enumerate(found):
        item_path = fields.index(path, i)
        if fields.string(item, item_path, errs, nonempty=True) is not None:
            items.append((item, item_path))
    return items


def _validate_server(server: str, item: str, path: str, errs: fields.Errors) -> None:
    host, colon, port = server.rpartition(":")
    if "://" in server:
        problem = "give host:port, without a scheme"
    elif not colon or not _HOST.fullmatch(host):
        problem = "expected host:port (e.g. my-cluster-kafka-bootstrap.kafka:9092)"
    elif not port.isdecimal() or not 1 <= int(port) <= 65535:
        problem = f'the port "{port}" is not a number from 1 to 65535'
    else:
        return
    shown = f'"{item}"' if server == item else f'"{item}" ("{server}")'
    errs.append(FieldError(path, f"invalid value {shown}: {problem}"))


def _validate_choice(
    spec: dict[str, Any], name: str, allowed: tuple[str, ...], errs: fields.Errors
) -> None:
    if not fields.present(spec, name):
        return
    value = spec[name]
    if value not in allowed:
        shown = f'"{value}"' if isinstance(value, str) else fields.type_name(value)
        errs.append(FieldError(fields.join("spec", name), (
            f"invalid value {shown}: expected one of {', '.join(allowed)}")))


def _validate_net(value: object, path: str, errs: fields.Errors) -> None:
    net = fields.mapping(value, path, errs)
    if net is None:
        return
    fields.known_fields(net, types.NET_FIELDS, path, errs)
    for name, allowed in (("sasl", types.SASL_FIELDS), ("tls", types.TLS_FIELDS)):
        if not fields.present(net, name):
            continue
        where = fields.join(path, name)
        part = fields.mapping(net[name], where, errs)
        if part is None:
            continue
        fields.known_fields(part, allowed, where, errs)
        for field in allowed:
            if not fields.present(part, field):
                continue
            if field == "enable":
                fields.boolean(part[field], fields.join(where, field), errs)
            elif part[field] != {}:  # Go's non-pointer SecretValueFromSource: {} is unset
                shared.validate_secret_value(part[field], fields.join(where, field), errs)
