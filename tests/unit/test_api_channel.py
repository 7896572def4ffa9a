"""Channel and InMemoryChannel: names, defaults, validation, immutability (ripple.api.messaging).

The lifecycles are in test_api_messaging_lifecycle.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading, registry
from ripple.api.messaging import channel, channel_types, in_memory_channel

SUBSCRIBABLE = {"messaging.knative.dev/subscribable": "v1"}
IMC_TEMPLATE = {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel"}
DLS = {"ref": {"apiVersion": "v1", "kind": "Service", "name": "dls"}}
SUBSCRIBER = {"uid": "a1", "generation": 1, "subscriberUri": "http://s.default.svc"}
SCOPE = "eventing.knative.dev/scope"


def make(kind: str = "Channel", spec: Any = None, **metadata: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "messaging.knative.dev/v1", "kind": kind,
        "metadata": {"name": "ch", **metadata},
    }
    if spec is not None:
        obj["spec"] = spec
    return obj


def imc(spec: Any = None, **metadata: Any) -> dict[str, Any]:
    return make("InMemoryChannel", spec, **metadata)


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    registry.lookup(obj["apiVersion"], obj["kind"]).set_defaults(obj)
    return obj


@pytest.mark.parametrize(("name", "kind", "plural"), [
    ("ch", "Channel", "channels"),
    ("channel", "Channel", "channels"),
    ("channels.messaging.knative.dev", "Channel", "channels"),
    ("imc", "InMemoryChannel", "inmemorychannels"),
    ("InMemoryChannel", "InMemoryChannel", "inmemorychannels"),
    ("inmemorychannels", "InMemoryChannel", "inmemorychannels"),
])
def test_names(name: str, kind: str, plural: str) -> None:
    found = registry.by_name(name)
    assert (found.kind, found.plural, found.addressable) == (kind, plural, True)
    assert registry.by_resource("messaging.knative.dev", "v1", plural) is found


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param(make(), {
        "metadata": {"name": "ch", "namespace": "default", "annotations": SUBSCRIBABLE},
        "spec": {"channelTemplate": IMC_TEMPLATE},
    }, id="channel-everything-defaulted"),
    pytest.param(make(spec={"channelTemplate": None}), {
        "metadata": {"name": "ch", "namespace": "default", "annotations": SUBSCRIBABLE},
        "spec": {"channelTemplate": IMC_TEMPLATE},
    }, id="channel-null-template"),
    pytest.param(make(spec={"channelTemplate": {"apiVersion": "messaging.knative.dev/v1beta1",
                                                "kind": "KafkaChannel",
                                                "spec": {"numPartitions": 3}},
                            "delivery": {"deadLetterSink": copy.deepcopy(DLS)}},
                      namespace="ns", annotations={"messaging.knative.dev/subscribable": "v2"}), {
        "metadata": {"name": "ch", "namespace": "ns",
                     "annotations": {"messaging.knative.dev/subscribable": "v2"}},
        "spec": {"channelTemplate": {"apiVersion": "messaging.knative.dev/v1beta1",
                                     "kind": "KafkaChannel", "spec": {"numPartitions": 3}},
                 "delivery": {"deadLetterSink": {"ref": {**DLS["ref"], "namespace": "ns"}}}},
    }, id="channel-kept-and-ref-namespace"),
    pytest.param(make(spec={"subscribers": [{"uid": "a", "delivery": {"deadLetterSink": {
        "ref": {"name": "d"}}}}]}, namespace="ns"), {
        "metadata": {"name": "ch", "namespace": "ns", "annotations": SUBSCRIBABLE},
        "spec": {"channelTemplate": IMC_TEMPLATE,
                 "subscribers": [{"uid": "a", "delivery": {"deadLetterSink": {
                     "ref": {"name": "d", "namespace": "ns"}}}}]},
    }, id="channel-subscriber-dls-namespace"),
    pytest.param(imc(), {
        "metadata": {"name": "ch", "namespace": "default", "annotations": SUBSCRIBABLE},
        "spec": {},
    }, id="imc-everything-defaulted"),
    pytest.param(imc({"delivery": {"deadLetterSink": {"ref": {"name": "d"}}}}, namespace="ns"), {
        "metadata": {"name": "ch", "namespace": "ns", "annotations": SUBSCRIBABLE},
        "spec": {"delivery": {"deadLetterSink": {"ref": {"name": "d", "namespace": "ns"}}}},
    }, id="imc-ref-namespace"),
])
def test_defaults(given: dict[str, Any], expected: dict[str, Any]) -> None:
    got = defaulted(given)
    assert {"metadata": got["metadata"], "spec": got["spec"]} == expected


def test_default_template_is_a_fresh_copy() -> None:
    first = defaulted(make())
    first["spec"]["channelTemplate"]["kind"] = "Changed"
    assert defaulted(make())["spec"]["channelTemplate"] == IMC_TEMPLATE
    assert channel_types.DEFAULT_CHANNEL_TEMPLATE == IMC_TEMPLATE


@pytest.mark.parametrize("obj", [make(spec="x"), imc([1])])
def test_defaults_survive_a_malformed_spec(obj: dict[str, Any]) -> None:
    assert defaulted(obj)["spec"] == obj["spec"]


def refusal(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj, old)
    assert caught.value.status == 422
    return [(e.path, e.message) for e in caught.value.errors]


def ch(**spec: Any) -> dict[str, Any]:
    return make(spec=spec)


def with_subscriber(**changes: Any) -> dict[str, Any]:
    entry = {**SUBSCRIBER, **changes}
    return ch(subscribers=[{k: v for k, v in entry.items() if v is not None}])


S0 = "spec.subscribers[0]"
T = "spec.channelTemplate"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    # the spec and the template
    (make(spec="spec"), "spec", "must be a mapping, got a string"),
    (ch(subscriber=[]), "spec.subscriber", ('unknown field "subscriber"; the fields here are: '
                                           "channelTemplate, subscribers, delivery")),
    (ch(channelTemplate="InMemoryChannel"), T, "must be a mapping, got a string"),
    (ch(channelTemplate={"kind": "InMemoryChannel"}), f"{T}.apiVersion",
     "required field is missing"),
    (ch(channelTemplate={"apiVersion": "messaging.knative.dev/v1"}), f"{T}.kind",
     "required field is missing"),
    (ch(channelTemplate={**IMC_TEMPLATE, "kind": ""}), f"{T}.kind", "required field is missing"),
    (ch(channelTemplate={**IMC_TEMPLATE, "kind": 3}), f"{T}.kind", "must be a string"),
    (ch(channelTemplate={**IMC_TEMPLATE, "kind": "<channel-template-kind>"}), f"{T}.kind",
     'invalid value "<channel-template-kind>": a kind is a CamelCase name'),
    (ch(channelTemplate={**IMC_TEMPLATE, "apiVersion": "Messaging/v1"}), f"{T}.apiVersion",
     'invalid value "Messaging/v1": an apiVersion is a version'),
    (ch(channelTemplate={**IMC_TEMPLATE, "apiVersion": "messaging.knative.dev/"}),
     f"{T}.apiVersion", "an apiVersion is a version"),
    (ch(channelTemplate={**IMC_TEMPLATE, "spec": [1]}), f"{T}.spec", "must be a mapping"),
    (ch(channelTemplate={**IMC_TEMPLATE, "specs": {}}), f"{T}.specs",
     'unknown field "specs"; the fields here are: apiVersion, kind, spec'),
    # delivery
    (ch(delivery={"retry": -1}), "spec.delivery.retry", "invalid value -1"),
    (ch(delivery={"deadLetterSink": {"uri": "/dls"}}), "spec.delivery.deadLetterSink.uri",
     "must be absolute"),
    # subscribers
    (ch(subscribers={"uid": "a"}), "spec.subscribers", "must be a list of subscribers"),
    (ch(subscribers=["a"]), S0, "must be a mapping, got a string"),
    (with_subscriber(uid=None), f"{S0}.uid", "required field is missing"),
    (with_subscriber(uid=""), f"{S0}.uid", "required field is missing"),
    (with_subscriber(uid=7), f"{S0}.uid", "must be a string"),
    (with_subscriber(subscriberUri=None), S0,
     "expected at least one of subscriberUri or replyUri, got neither"),
    (with_subscriber(subscriberUri="/path"), f"{S0}.subscriberUri",
     'invalid value "/path": must be an absolute URI'),
    (with_subscriber(replyUri="reply"), f"{S0}.replyUri", "must be an absolute URI"),
    (with_subscriber(replyUri=5), f"{S0}.replyUri", "must be a string"),
    (with_subscriber(generation=-1), f"{S0}.generation", "invalid value -1: must be zero or more"),
    (with_subscriber(generation="1"), f"{S0}.generation", "must be an integer"),
    (with_subscriber(name=1), f"{S0}.name", "must be a string"),
    (with_subscriber(subscriberAudience=[]), f"{S0}.subscriberAudience", "must be a string"),
    (with_subscriber(delivery={"backoffPolicy": "random"}), f"{S0}.delivery.backoffPolicy",
     "must be one of exponential, linear"),
    (with_subscriber(auth="sa"), f"{S0}.auth", "must be a mapping"),
    (with_subscriber(subscriber="http://x"), f"{S0}.subscriber", 'unknown field "subscriber"'),
    (ch(subscribers=[SUBSCRIBER, {**SUBSCRIBER, "generation": 2}]), "spec.subscribers[1].uid",
     'duplicate value "a1": each Subscription is listed once'),
    # metadata
    (make(name="My-Channel"), "metadata.name", "RFC 1123 subdomain"),
])
def test_channel_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (imc("spec"), "spec", "must be a mapping, got a string"),
    (imc({"channelTemplate": IMC_TEMPLATE}), "spec.channelTemplate",
     'unknown field "channelTemplate"; the fields here are: subscribers, delivery'),
    (imc({"delivery": {"timeout": "soon"}}), "spec.delivery.timeout", "invalid value"),
    (imc({"subscribers": [{"uid": "a"}]}), S0, "expected at least one of subscriberUri"),
    (imc({"subscribers": [{**SUBSCRIBER, "replyUri": "ftp:/x"}]}), f"{S0}.replyUri",
     "must be an absolute URI"),
    (imc(annotations={SCOPE: "everywhere"}), f"metadata.annotations[{SCOPE}]",
     'invalid value "everywhere": expected either "cluster" or "namespace"'),
])
def test_in_memory_channel_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize("obj", [
    make(),
    ch(),
    ch(channelTemplate={"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel",
                        "spec": {"numPartitions": 2, "replicationFactor": 1}}),
    ch(channelTemplate={"apiVersion": "v1", "kind": "Channel", "spec": None}),
    ch(delivery={"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT1S",
                 "deadLetterSink": DLS}),
    ch(subscribers=[SUBSCRIBER, {"uid": "b", "replyUri": "http://r.default.svc/path",
                                 "name": "sub-b", "delivery": {"retry": 1}, "auth": {}}]),
    imc(),
    imc({}),
    imc({"subscribers": [SUBSCRIBER], "delivery": {"deadLetterSink": {"uri": "http://dls"}}}),
    imc(annotations={SCOPE: "namespace", "messaging.knative.dev/async-handler": "true"}),
])
def test_valid(obj: dict[str, Any]) -> None:
    admitted = loading.admit(obj)
    assert admitted["kind"] == obj["kind"]


def test_every_error_is_reported_at_once() -> None:
    obj = ch(channelTemplate={"kind": "<k>"}, subscribers=[{}], delivery={"retry": -1})
    assert [p for p, _ in refusal(obj)] == [
        f"{T}.apiVersion", f"{T}.kind", f"{S0}.uid", S0, "spec.delivery.retry",
    ]


KAFKA = {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel"}


@pytest.mark.parametrize(("change", "path"), [
    (lambda c: c["spec"].update(channelTemplate=KAFKA), T),
    (lambda c: c["spec"]["channelTemplate"].update(spec={"numPartitions": 1}), T),
    (lambda c: c["metadata"].update(namespace="other"), "metadata.namespace"),
])
def test_channel_template_is_immutable(change: Any, path: str) -> None:
    old = loading.admit(make())
    new = copy.deepcopy(old)
    change(new)
    assert path in [p for p, _ in refusal(new, old)]


def test_channel_template_omitted_on_update_is_the_default_again() -> None:
    old = loading.admit(make())
    assert loading.admit(make(), old)["spec"]["channelTemplate"] == IMC_TEMPLATE
    kafka = loading.admit(ch(channelTemplate=KAFKA))
    assert [p for p, _ in refusal(make(), kafka)] == [T]


@pytest.mark.parametrize("kind", [channel.KIND, in_memory_channel.KIND])
def test_delivery_and_subscribers_may_change(kind: registry.Kind) -> None:
    old = loading.admit(make(kind.kind))
    new = copy.deepcopy(old)
    new["spec"]["delivery"] = {"retry": 1}
    new["spec"]["subscribers"] = [SUBSCRIBER]
    assert loading.admit(new, old)["spec"]["subscribers"] == [SUBSCRIBER]


@pytest.mark.parametrize(("obj", "expected"), [
    (loading.admit(make()), IMC_TEMPLATE),
    (make(spec={"channelTemplate": "x"}), {}),
    (make(spec=[]), {}),
])
def test_channel_template_reader(obj: dict[str, Any], expected: dict[str, Any]) -> None:
    assert channel_types.channel_template(obj) == expected
