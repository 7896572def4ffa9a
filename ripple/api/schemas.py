"""Structural OpenAPI v3 schemas of the kinds Ripple serves, for their CRDs.

Called by `ripple.api.crds`, which wraps each schema into a CustomResourceDefinition. The
field names come from the kinds' own `*_types` modules (the same tuples their validation
checks against), so a field added to a kind reaches its CRD; the types are Knative's Go
types. Every node has a type, as Kubernetes' structural schemas require, except the few
open places (a container, a filter dialect, a channel template's spec) marked
`x-kubernetes-preserve-unknown-fields`, where the schema stops and Ripple's admission
takes over, as Knative's own CRDs do. `status` takes the duck types of
`ripple.api.statuses` and keeps every other field (a Service's `url`, a Revision's
`actualReplicas`).
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, statuses
from ripple.api.eventing import broker_types, trigger_types
from ripple.api.flows import parallel_types, sequence_types
from ripple.api.messaging import channel_types, channelable, subscription_types
from ripple.api.serving import revision_types, route_types
from ripple.api.sources import (
    github_source_types,
    gitlab_source_types,
    kafka_source_types,
    ping_source_types,
    source_spec,
)

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
OPEN: Schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
"""An object whose fields the schema leaves to admission."""


def obj(properties: dict[str, Schema], *, open_: bool = False) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if open_:
        schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def strings(names: tuple[str, ...], **typed: Schema) -> dict[str, Schema]:
    """Properties named `names`, strings unless `typed` says otherwise."""
    return {name: typed.get(name, STRING) for name in names}


KREFERENCE = obj(strings(duck.KREFERENCE_FIELDS))
DESTINATION = obj(strings(duck.DESTINATION_FIELDS, ref=KREFERENCE))
DELIVERY = obj(strings(duck.DELIVERY_FIELDS, deadLetterSink=DESTINATION, retry=INTEGER))
SECRET_VALUE = obj({"secretKeyRef": obj({"name": STRING, "key": STRING, "optional": BOOLEAN})})
CHANNEL_TEMPLATE = obj(strings(channel_types.CHANNEL_TEMPLATE_FIELDS, spec=OPEN))
SOURCE = strings(source_spec.SPEC_FIELDS, sink=DESTINATION,
                 ceOverrides=obj({"extensions": STRING_MAP}))

_SUBSCRIBER = obj(strings(channelable.SUBSCRIBER_FIELDS, generation=INTEGER, delivery=DELIVERY,
                          auth=OPEN))
CHANNELABLE = strings(channelable.SPEC_FIELDS, subscribers=array(_SUBSCRIBER), delivery=DELIVERY)

_REVISION_SPEC = obj({
    **{name: array(OPEN) for name in ("containers", "volumes", "imagePullSecrets")},
    "serviceAccountName": STRING,
    "enableServiceLinks": BOOLEAN,
    "automountServiceAccountToken": BOOLEAN,
    **{name: INTEGER for name in revision_types.OWN_FIELDS},
})
assert set(_REVISION_SPEC["properties"]) == set(revision_types.SPEC_FIELDS)
TEMPLATE = obj({"metadata": OPEN, "spec": _REVISION_SPEC})
TRAFFIC = array(obj(strings(route_types.TRAFFIC_FIELDS, latestRevision=BOOLEAN, percent=INTEGER)))

SPECS: dict[str, dict[str, Schema]] = {
    "Broker": strings(broker_types.SPEC_FIELDS, config=KREFERENCE, delivery=DELIVERY),
    "Trigger": strings(trigger_types.SPEC_FIELDS, brokerRef=KREFERENCE,
                       filter=obj({"attributes": STRING_MAP}), filters=array(OPEN),
                       subscriber=DESTINATION, delivery=DELIVERY),
    "Channel": strings(channel_types.SPEC_FIELDS, channelTemplate=CHANNEL_TEMPLATE, **CHANNELABLE),
    "InMemoryChannel": CHANNELABLE,
    "Subscription": strings(subscription_types.SPEC_FIELDS,
                            channel=obj(strings(subscription_types.CHANNEL_REF_FIELDS)),
                            subscriber=DESTINATION, reply=DESTINATION, delivery=DELIVERY),
    "Sequence": strings(sequence_types.SPEC_FIELDS, channelTemplate=CHANNEL_TEMPLATE,
                        reply=DESTINATION,
                        steps=array(obj(strings(sequence_types.STEP_FIELDS, ref=KREFERENCE,
                                                delivery=DELIVERY)))),
    "Parallel": strings(parallel_types.SPEC_FIELDS, channelTemplate=CHANNEL_TEMPLATE,
                        reply=DESTINATION,
                        branches=array(obj(strings(parallel_types.BRANCH_FIELDS,
                                                   filter=DESTINATION, subscriber=DESTINATION,
                                                   reply=DESTINATION, delivery=DELIVERY)))),
    "PingSource": strings(ping_source_types.SPEC_FIELDS, **SOURCE),
    "GitHubSource": strings(github_source_types.SPEC_FIELDS, eventTypes=array(STRING),
                            accessToken=SECRET_VALUE, secretToken=SECRET_VALUE, secure=BOOLEAN,
                            **SOURCE),
    "GitLabSource": strings(gitlab_source_types.SPEC_FIELDS, eventTypes=array(STRING),
                            accessToken=SECRET_VALUE, secretToken=SECRET_VALUE,
                            sslverify=BOOLEAN, **SOURCE),
    "KafkaSource": strings(
        kafka_source_types.SPEC_FIELDS, bootstrapServers=array(STRING), topics=array(STRING),
        consumers=INTEGER, delivery=DELIVERY,
        net=obj({"sasl": obj(strings(kafka_source_types.SASL_FIELDS, enable=BOOLEAN,
                                     user=SECRET_VALUE, password=SECRET_VALUE,
                                     type=SECRET_VALUE)),
                 "tls": obj(strings(kafka_source_types.TLS_FIELDS, enable=BOOLEAN,
                                    cert=SECRET_VALUE, key=SECRET_VALUE,
                                    caCert=SECRET_VALUE))}),
        **SOURCE),
    "Configuration": {"template": TEMPLATE},
    "Revision": _REVISION_SPEC["properties"],
    "Route": {"traffic": TRAFFIC},
    "Service": {"template": TEMPLATE, "traffic": TRAFFIC},
}
"""The properties of each kind's `spec`."""


def _status(schema: statuses.Schema) -> Schema:
    """`ripple.api.statuses`' notation as OpenAPI."""
    if schema is str:
        return dict(STRING)
    if schema is int:
        return dict(INTEGER)
    if schema is bool:
        return dict(BOOLEAN)
    if isinstance(schema, list):
        return array(_status(schema[0]))
    if "*" in schema:
        return {"type": "object", "additionalProperties": _status(schema["*"])}
    return obj({name: _status(inner) for name, inner in schema.items()})


STATUS = obj(_status(statuses.SCHEMA)["properties"], open_=True)


def schema_of(kind: str) -> Schema:
    """The whole object's schema (`openAPIV3Schema`) of a kind with a CRD."""
    return obj({
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": {"type": "object"},
        "spec": obj(SPECS[kind]),
        "status": STATUS,
    })
