"""Knative's own documentation manifests against Ripple's admission (shared/testdata/knative-docs).

Every document of a kind Ripple serves must be admitted as written, keeping every field
the author wrote. Every other kind must be refused by the registry with a message naming
its apiVersion and kind. The three Trigger blocks Knative's webhook rejects (`invalid/`)
must be refused naming the field.

`valid/` holds everything that parses, which includes eighteen documents Kubernetes or
Knative would refuse as written, and Ripple refuses them too:
- ten templates with `<placeholder>` values (a Broker named `<broker-name>`, a `retry` of
  `<integer>`, a Secret whose `data` is `<base64 encoded ...>`, a Channel whose template
  kind is `<channel-template-kind>`, a PingSource `<cron-schedule>`): they are refused
  naming exactly the placeholder fields, and admitted once the placeholders are filled in;
- two KafkaSource templates with `KAFKA_*` placeholders and the old `spec.resources`, and
  two kafka-source README blocks whose spec fields are not indented under `spec`;
- job-sink.md block 3, a Trigger whose `subscriber` is indented under `filter`: the same
  defect as `invalid/` block 13, which SOURCES.md lists as a known doc defect;
- three Subscriptions that only illustrate `spec.delivery` and name no `spec.channel`
  (event-delivery.md block 1, which also has placeholders and no subscriber, and the
  delivery-retryafter and delivery-timeout feature pages): Knative's webhook refuses
  them too, with "the Subscription must reference a channel".
Serving (issue #10) adds Service, Route, Revision and ConfigMap: every complete Service
and every `config-autoscaler` ConfigMap is admitted as written; the four traffic-management
Routes are templates (`<route-name>`); eleven serving snippets show only the annotations
they are about, with no containers (or no spec, or no name), and a kafka-broker ConfigMap's
`data` is the elision `...`: Knative's webhook and Kubernetes refuse those too. The
corpus lives beside the repository; a worktree elsewhere sets `RIPPLE_KNATIVE_DOCS`.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from ripple import errors
from ripple.api import loading, registry

# Beside the repository (shared/testdata); a git worktree elsewhere names it in the env.
DOCS = Path(os.environ.get("RIPPLE_KNATIVE_DOCS") or
            Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "knative-docs")
pytestmark = pytest.mark.skipif(not DOCS.is_dir(), reason=f"{DOCS} is absent")

SERVED = {(k.api_version, k.kind) for k in registry.kinds()}


def documents(folder: str) -> list[tuple[str, dict[str, Any]]]:
    if not (DOCS / folder).is_dir():
        return []
    found = []
    for path in sorted((DOCS / folder).glob("*.yaml")):
        for i, doc in enumerate(loading.load_documents(path.read_text())):
            found.append((f"{path.name}#{i}", doc))
    return found


VALID = documents("valid")
INVALID = documents("invalid")


def served(doc: dict[str, Any]) -> bool:
    return (doc.get("apiVersion"), doc.get("kind")) in SERVED


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


TEMPLATES = {
    "knative-docs__code-samples_serving_gitwebhook-go_github-secret.yaml#0":
        ["data[personalAccessToken]", "data[webhookSecret]"],
    "knative-docs__eventing_brokers_broker-types_channel-based-broker_README__block01.yaml#0":
        ["metadata.name"],
    "knative-docs__eventing_brokers_create-broker__block01.yaml#0":
        ["metadata.name", "metadata.namespace"],
    "knative-docs__eventing_event-delivery__block02.yaml#0":
        ["spec.delivery.retry", "spec.delivery.backoffPolicy", "spec.delivery.backoffDelay"],
    "knative-docs__eventing_channels_create-default-channel__block01.yaml#0":
        ["metadata.name", "metadata.namespace"],
    "knative-docs__eventing_channels_create-default-channel__block02.yaml#0":
        ["metadata.name", "metadata.namespace", "spec.channelTemplate.kind"],
    "knative-docs__eventing_channels_subscriptions__block01.yaml#0":
        ["metadata.name"],
    "knative-docs__eventing_sources_kafka-source_README__block05.yaml#0":
        ["spec.delivery.retry", "spec.delivery.backoffPolicy", "spec.delivery.backoffDelay"],
    "knative-docs__eventing_sources_ping-source_README__block02.yaml#0":
        ["metadata.name", "metadata.namespace", "spec.schedule"],
    "knative-docs__eventing_sources_ping-source_README__block03.yaml#0":
        ["metadata.name", "metadata.namespace", "spec.schedule", "spec.dataBase64"],
    # traffic-management.md: Routes named `<route-name>` to `<first-revision-name>` ...
    "knative-docs__serving_traffic-management__block05.yaml#0":
        ["metadata.name", "spec.traffic[0].revisionName"],
    **{f"knative-docs__serving_traffic-management__block0{n}.yaml#0":
       ["metadata.name", "spec.traffic[0].revisionName", "spec.traffic[1].revisionName"]
       for n in (6, 7, 8)},
}
FILL: dict[str, Any] = {
    "<broker-name>": "my-broker",
    "<namespace>": "my-namespace",
    "<integer>": 3,
    "<policy-type>": "exponential",
    "<duration>": "PT1S",
    "<base64 encoded personal access token>": b64("token"),
    "<base64 encoded webhook secret>": b64("secret"),
    "<example-channel>": "my-channel",
    "<channel-template-kind>": "InMemoryChannel",
    "<subscription-name>": "my-subscription",
    "<channel-name>": "my-channel",
    "<service-name>": "my-service",
    "<pingsource-name>": "my-ping",
    "<cron-schedule>": "*/1 * * * *",
    "<base64-data>": b64("data"),
    "<route-name>": "my-route",
    "<first-revision-name>": "my-route-00001",
    "<second-revision-name>": "my-route-00002",
}
# Serving pages that show only the lines they are about: a Service whose template has
# annotations and no containers, which Knative's webhook refuses too ("missing field(s):
# spec.template.spec.containers"), a Service with no spec, a Revision with no name and no
# containers.
SERVING_SNIPPETS = {
    f"knative-docs__serving_autoscaling_{page}.yaml#0": ["spec.template.spec.containers"]
    for page in ("autoscaler-types__block05", "autoscaling-metrics__block01",
                 "autoscaling-metrics__block02", "autoscaling-metrics__block03",
                 "autoscaling-metrics__block04", "autoscaling-targets__block01",
                 "concurrency__block01", "concurrency__block04")
}
SERVING_SNIPPETS.update({
    # ... and placeholders: `<target>` is not a number (`<metric-name>` is any HPA metric).
    "knative-docs__serving_autoscaling_autoscaling-metrics__block05.yaml#0":
        ["spec.template.metadata.annotations[autoscaling.knative.dev/target]",
         "spec.template.spec.containers"],
    "knative-docs__serving_load-balancing_target-burst-capacity__block01.yaml#0":
        ["metadata.name", "spec.template.spec.containers"],
    "knative-docs__serving_revisions_revision-developer-config-options__block01.yaml#0":
        ["metadata.name", "spec.containers"],
    "knative-docs__serving_rolling-out-latest-revision__block01.yaml#0": ["spec"],
})
DEFECTS = {
    **SERVING_SNIPPETS,
    # kafka-broker README block 8: a ConfigMap whose `data` is the elision `...`.
    "knative-docs__eventing_brokers_broker-types_kafka-broker_README__block08.yaml#0": ["data"],
    "knative-docs__eventing_sinks_job-sink__block03.yaml#0":
        ["spec.filter.subscriber", "spec.subscriber"],
    "knative-docs__eventing_event-delivery__block01.yaml#0":
        ["spec.channel", "spec.subscriber", "spec.delivery.retry", "spec.delivery.backoffPolicy",
         "spec.delivery.backoffDelay"],
    "knative-docs__eventing_features_delivery-retryafter__block01.yaml#0": ["spec.channel"],
    "knative-docs__eventing_features_delivery-timeout__block01.yaml#0": ["spec.channel"],
    # Two KafkaSource templates: KAFKA_* placeholders everywhere, and `spec.resources`, a
    # field of the old eventing-contrib KafkaSource that today's CRD no longer has.
    "knative-docs__code-samples_eventing_kafka_binding_event-source.yaml#0":
        ["spec.resources", "spec.bootstrapServers[0]", "spec.net.sasl.enable",
         "spec.net.sasl.user.secretKeyRef.name", "spec.net.sasl.password.secretKeyRef.name",
         "spec.net.tls.enable", "spec.net.tls.cert.secretKeyRef.name",
         "spec.net.tls.key.secretKeyRef.name", "spec.net.tls.caCert.secretKeyRef.name"],
    "knative-docs__eventing_sources_kafka-source_event-source.yaml#0":
        ["spec.resources", "spec.bootstrapServers[0]", "spec.initialOffset", "spec.net.sasl.enable",
         "spec.net.sasl.user.secretKeyRef.name", "spec.net.sasl.password.secretKeyRef.name",
         "spec.net.tls.enable", "spec.net.tls.cert.secretKeyRef.name",
         "spec.net.tls.key.secretKeyRef.name", "spec.net.tls.caCert.secretKeyRef.name"],
    # kafka-source README blocks 6 and 7: the spec's fields are not indented under `spec`
    # (block 6: metadata's too), so Kubernetes would refuse them as well.
    "knative-docs__eventing_sources_kafka-source_README__block06.yaml#0":
        ["name", "labels", "consumerGroup", "bootstrapServers", "topics", "sink", "metadata.name",
         "spec.bootstrapServers", "spec.topics", "spec.sink"],
    "knative-docs__eventing_sources_kafka-source_README__block07.yaml#0":
        ["consumerGroup", "initialOffset", "bootstrapServers", "topics", "sink",
         "spec.bootstrapServers", "spec.topics", "spec.sink"],
}
REFUSED_IN_VALID = {**TEMPLATES, **DEFECTS}
INVALID_PATHS = {
    "knative-docs__eventing_triggers_README__block03.yaml#0":
        (["spec.filters[0]"], "multiple dialects found, filters can have only one dialect set"),
    "knative-docs__eventing_triggers_README__block12.yaml#0":
        (["spec.filters"], "must be a list of filter expressions, got a mapping"),
    "knative-docs__eventing_triggers_README__block13.yaml#0":
        (["spec.filter.subscriber", "spec.subscriber"], 'unknown field "subscriber"'),
}


def keeps(admitted: Any, written: Any, path: str = "") -> None:
    """Every value the author wrote is in the admitted object, unchanged."""
    if isinstance(written, list):
        # Defaulting may add to the items (a ref's namespace), never add or drop one.
        assert isinstance(admitted, list) and len(admitted) == len(written), path
        for i, (got, wanted) in enumerate(zip(admitted, written)):
            keeps(got, wanted, f"{path}[{i}]")
    elif isinstance(written, dict):
        assert isinstance(admitted, dict), path
        for k, v in written.items():
            if path == "" and k == "stringData":
                # The API server folds stringData into data; the value must survive there.
                for name, text in v.items():
                    assert admitted["data"][name] == b64(text)
                continue
            if v is None:  # `spec:` with only comments under it
                continue
            assert k in admitted, f"{path}.{k}"
            keeps(admitted[k], v, f"{path}.{k}")
    else:
        assert admitted == written, path


def refusal(doc: dict[str, Any]) -> errors.Invalid:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(doc)
    return caught.value


@pytest.mark.parametrize(("name", "doc"), [
    pytest.param(n, d, id=n) for n, d in VALID if served(d) and n not in REFUSED_IN_VALID
])
def test_served_kinds_are_admitted_as_written(name: str, doc: dict[str, Any]) -> None:
    keeps(loading.admit(doc), doc)


@pytest.mark.parametrize(("name", "doc"), [
    pytest.param(n, d, id=n) for n, d in VALID if not served(d)
])
def test_other_kinds_are_refused_naming_apiversion_and_kind(name: str, doc: dict[str, Any]) -> None:
    with pytest.raises(errors.Invalid) as caught:
        registry.lookup(doc.get("apiVersion"), doc.get("kind"))  # type: ignore[arg-type]
    (error,) = caught.value.errors
    assert error.path in ("apiVersion", "kind")
    if doc.get("apiVersion") and doc.get("kind"):
        assert f"{doc['apiVersion']} {doc['kind']} is not a kind Ripple serves" in error.message
    else:
        assert "required field is missing" in error.message
    assert "eventing.knative.dev/v1 Broker" in error.message  # what Ripple does serve
    assert [e.path for e in refusal(doc).errors] == [error.path]


def fill(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: fill(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v) for v in value]
    if isinstance(value, str) and value in FILL:
        return FILL[value]
    return value


@pytest.mark.parametrize(("name", "paths"), list(TEMPLATES.items()))
def test_templates_are_refused_until_their_placeholders_are_filled(
    name: str, paths: list[str]
) -> None:
    doc = dict(VALID)[name]
    assert [e.path for e in refusal(doc).errors] == paths
    keeps(loading.admit(fill(doc)), fill(doc))


@pytest.mark.parametrize(("name", "paths"), list(DEFECTS.items()))
def test_known_doc_defects_in_valid_are_refused(name: str, paths: list[str]) -> None:
    assert [e.path for e in refusal(dict(VALID)[name]).errors] == paths


@pytest.mark.parametrize(("name", "doc"), [pytest.param(n, d, id=n) for n, d in INVALID])
def test_invalid_manifests_are_refused_naming_the_field(name: str, doc: dict[str, Any]) -> None:
    paths, fragment = INVALID_PATHS[name]
    error = refusal(doc)
    assert error.status == 422
    assert [e.path for e in error.errors] == paths
    assert fragment in error.errors[0].message


OURS = ("Broker", "Trigger", "Secret", "Channel", "InMemoryChannel", "Subscription", "Sequence",
        "Parallel", "PingSource", "GitHubSource", "GitLabSource", "KafkaSource", "Service",
        "Route", "Revision", "ConfigMap")


def test_the_corpus_is_what_we_think() -> None:
    ours = [(n, d) for n, d in VALID if served(d)]
    kinds = [d["kind"] for _, d in ours]
    assert [kinds.count(k) for k in OURS] == [9, 7, 4, 2, 0, 4, 5, 2, 10, 2, 1, 9, 65, 4, 1, 35]
    # InMemoryChannel's one document is messaging.knative.dev/v1alpha1, which Knative dropped;
    # a core v1 Service is not a kind Ripple stores (a ref to one resolves through the
    # Knative Service of its name).
    assert [n for n, d in VALID if d.get("kind") in OURS and not served(d)] == [
        "eventing-github__samples_githubsource.yaml#2",
        "knative-docs__eventing_sources_ping-source_README__block01.yaml#1"]
    assert len([n for n, _ in ours if n not in REFUSED_IN_VALID]) == 125
    assert len(ours) == 160
    assert len(VALID) == 207
    assert sorted(INVALID_PATHS) == sorted(n for n, _ in INVALID)
    assert set(REFUSED_IN_VALID) <= {n for n, _ in ours}
