"""R4, fuzz: Hypothesis (and schemathesis over the control API's /openapi.json) throws
malformed requests at one `ripple up`: the broker ingress, the channel ingress, the GitHub
and GitLab webhook receivers, the API, and any method at any path.

The mesh holds a Secret, a Broker, an InMemoryChannel, a GitHubSource and a GitLabSource
(their sink records what they publish). Every answer is judged by
`tests.support.fuzzing.problem_of`: no 5xx, and every 4xx a JSON body whose message names
the field, header or rule that failed (its docstring gives the exact rule). At the end the
process is alive, has logged no error, still accepts a valid event with 202, every event
the receivers published is a valid CloudEvent, and every stored status fits the schema
the API enforces on status writes.

CI: about 10,700 requests in 60 to 90 s, on one kept-alive connection. Full
(`RIPPLE_SOAK=1`): ten times as many. `RIPPLE_CHAOS_SEED` replays a run's examples.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NotSet
from schemathesis.core.result import Ok

from ripple import cloudevents as ce
from ripple.api import statuses
from tests.reliability.conftest import Form
from tests.support import fuzzing
from tests.support.fuzzing import Client, Request
from tests.support.mesh import Mesh
from tests.support.prober import wait_until
from tests.support.sinks import Answer, RecordingSink

pytestmark = pytest.mark.reliability

SECRET = b"s3cret"
BROKER, CHANNEL = "/default/fuzz", "/channels/default/fuzz"
GITHUB, GITLAB = "/webhooks/github/default/fuzz", "/webhooks/gitlab/default/fuzz"
TARGETS = ("broker binary", "broker structured", "channel ingress", "github webhook",
           "gitlab webhook", "any method, any path", "api schemathesis", "api manifests",
           "api status", "api auth header")
EXAMPLES = {"broker binary": 2400, "broker structured": 1400, "channel ingress": 1400,
            "github webhook": 1500, "gitlab webhook": 1000, "any method, any path": 1100,
            "api schemathesis": 480, "api manifests": 900, "api status": 400,
            "api auth header": 600}
REQUIRED_TOTAL = 10_000
BATCH = 4


def manifest(api_version: str, kind: str, name: str, spec: dict[str, Any] | None = None,
             **top: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind,
                           "metadata": {"name": name, "namespace": "default"}}
    if spec is not None:
        obj["spec"] = spec
    return {**obj, **top}


def setup_manifests(sink: str) -> list[dict[str, Any]]:
    secret_ref = {"secretKeyRef": {"name": "fuzz", "key": "token"}}
    return [
        manifest("v1", "Secret", "fuzz", stringData={"token": SECRET.decode()}),
        manifest("eventing.knative.dev/v1", "Broker", "fuzz"),
        manifest("messaging.knative.dev/v1", "InMemoryChannel", "fuzz"),
        manifest("sources.knative.dev/v1alpha1", "GitHubSource", "fuzz", {
            "ownerAndRepository": "o/r",
            "eventTypes": ["push", "pull_request", "issues", "release"], "secretToken": secret_ref, "sink": {"uri": sink}}),
        manifest("sources.knative.dev/v1alpha1", "GitLabSource", "fuzz", {
            "projectUrl": "https://gitlab.example/group/project",
            "eventTypes": ["push_events", "issues_events", "merge_requests_events"],
            "secretToken": secret_ref, "sink": {"uri": sink}}),
    ]


SINK = "http://127.0.0.1:9/"
BROKER_REF = {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "fuzz"}}
DELIVERY = {"retry": 2, "backoffPolicy": "linear", "backoffDelay": "PT1S",
            "deadLetterSink": {"uri": SINK}}
TEMPLATES = [
    # Valid manifests of every served kind; `broken_manifests` gives known fields wrong types.
    manifest("eventing.knative.dev/v1", "Broker", "b", {"delivery": DELIVERY}),
    manifest("eventing.knative.dev/v1", "Trigger", "t", {
        "broker": "fuzz", "filter": {"attributes": {"type": "x"}},
        "filters": [{"any": [{"exact": {"type": "a"}}, {"cesql": "type LIKE 'a%'"}]}],
        "subscriber": {"uri": SINK}, "delivery": DELIVERY}),
    manifest("messaging.knative.dev/v1", "InMemoryChannel", "imc", {"delivery": DELIVERY}),
    manifest("messaging.knative.dev/v1", "Channel", "ch", {
        "channelTemplate": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel"}}),
    manifest("messaging.knative.dev/v1", "Subscription", "sub", {
        "channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel",
                    "name": "fuzz"},
        "subscriber": {"uri": SINK}, "reply": BROKER_REF, "delivery": DELIVERY}),
    manifest("flows.knative.dev/v1", "Sequence", "seq", {
        "steps": [{"uri": SINK}, {"uri": SINK, "delivery": DELIVERY}], "reply": BROKER_REF}),
    manifest("flows.knative.dev/v1", "Parallel", "par", {
        "branches": [{"filter": {"uri": SINK}, "subscriber": {"uri": SINK}}], "reply": BROKER_REF}),
    manifest("sources.knative.dev/v1", "PingSource", "ping", {
        "schedule": "0 0 1 1 *", "timezone": "Europe/Paris", "contentType": "application/json",
        "data": "{}", "ceOverrides": {"extensions": {"team": "a"}}, "sink": BROKER_REF}),
    manifest("sources.knative.dev/v1alpha1", "GitHubSource", "gh", {
        "ownerAndRepository": "o/r", "eventTypes": ["push"],
        "secretToken": {"secretKeyRef": {"name": "fuzz", "key": "token"}}, "sink": BROKER_REF}),
    manifest("sources.knative.dev/v1alpha1", "GitLabSource", "gl", {
        "projectUrl": "https://gitlab.example/g/p", "eventTypes": ["push_events"],
        "secretToken": {"secretKeyRef": {"name": "fuzz", "key": "token"}}, "sink": BROKER_REF}),
    manifest("sources.knative.dev/v1", "KafkaSource", "kafka", {
        "bootstrapServers": ["127.0.0.1:1"], "topics": ["t"], "consumerGroup": "g",
        "initialOffset": "earliest", "sink": BROKER_REF}),
    manifest("v1", "Secret", "s", data={"k": "dmFsdWU="}, stringData={"t": "x"}),
]
PLURALS = {"Broker": "brokers", "Trigger": "triggers", "InMemoryChannel": "inmemorychannels",
           "Channel": "channels", "Subscription": "subscriptions", "Sequence": "sequences",
           "Parallel": "parallels", "PingSource": "pingsources", "GitHubSource": "githubsources",
           "GitLabSource": "gitlabsources", "KafkaSource": "kafkasources", "Secret": "secrets"}
NAMES = ["fuzz-a", "fuzz-b", "fuzz-c"]  # never "fuzz": the setup's objects keep their specs


def collection_of(obj: dict[str, Any]) -> str:
    group = "/api/v1" if obj["apiVersion"] == "v1" else f"/apis/{obj['apiVersion']}"
    return f"{group}/namespaces/default/{PLURALS[obj['kind']]}"


@pytest.fixture(scope="module")
def published() -> Iterator[RecordingSink]:
    with RecordingSink(lambda _r, _n: Answer(202)) as sink:
        yield sink


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory, published: RecordingSink) -> Iterator[Mesh]:
    m = Mesh(tmp_path_factory.mktemp("fuzz")).start()
    try:
        m.apply("\n---\n".join(json.dumps(o) for o in setup_manifests(published.url)))
        for obj in setup_manifests(published.url)[1:]:
            m.wait_ready(f"{collection_of(obj)}/fuzz")
        yield m
    finally:
        m.stop()


@pytest.fixture(scope="module")
def client(mesh: Mesh) -> Iterator[Client]:
    c = Client(mesh.port, token=mesh.token)
    try:
        yield c
    finally:
        c.close()


def fuzz(client: Client, target: str, requests: st.SearchStrategy[Request], form: Form,
         seed: int) -> None:
    """Send `EXAMPLES[target]` (x10 in the full form) drawn requests; assert none broke a rule.

    Each Hypothesis example is a batch of `BATCH` requests: the engine's cost per example
    is then paid once per batch. Nothing is shrunk: every bad answer is recorded with its
    request, and the test fails after the last one.
    """
    examples = int(EXAMPLES[target] * form.pick(1, 10)) // BATCH

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(st.lists(requests, min_size=BATCH, max_size=BATCH))
    def run(batch: list[Request]) -> None:
        for request in batch:
            if not fuzzing.is_stream(request):
                client.send(target, request)

    started = time.monotonic()
    run()
    print(f"R4 {form.name} {target}: {client.counts[target]} requests in "
          f"{time.monotonic() - started:.1f}s ({client.waited[target]:.1f}s waiting for "
          f"answers), seed={seed}, statuses="
          f"{dict(sorted(client.statuses.get(target, {}).items()))}")
    problems = client.problems.get(target, [])
    assert not problems, f"{len(problems)} bad answers (seed={seed}):\n" + "\n".join(problems)


def test_broker_ingress_binary(client: Client, form: Form, seed: int) -> None:
    fuzz(client, "broker binary", fuzzing.binary_requests(BROKER), form, seed)


def test_broker_ingress_structured_and_batch(client: Client, form: Form, seed: int) -> None:
    fuzz(client, "broker structured", fuzzing.structured_requests(BROKER), form, seed)


def test_channel_ingress(client: Client, form: Form, seed: int) -> None:
    paths = st.sampled_from([CHANNEL] * 8 + ["/channels/default/nope", "/channels/default"])
    fuzz(client, "channel ingress", paths.flatmap(fuzzing.event_requests), form, seed)


def test_github_webhook_receiver(client: Client, form: Form, seed: int) -> None:
    fuzz(client, "github webhook", fuzzing.github_requests(GITHUB, SECRET), form, seed)


def test_gitlab_webhook_receiver(client: Client, form: Form, seed: int) -> None:
    fuzz(client, "gitlab webhook", fuzzing.gitlab_requests(GITLAB, SECRET), form, seed)


def test_any_method_at_any_path(client: Client, form: Form, seed: int) -> None:
    fuzz(client, "any method, any path", fuzzing.any_requests(), form, seed)


@st.composite
def manifest_requests(draw: st.DrawFn) -> Request:
    """A served kind's manifest with wrong types in known fields, created or replaced."""
    template = draw(st.sampled_from(TEMPLATES))
    name = draw(st.sampled_from(NAMES))
    named = {**template, "metadata": {**template["metadata"], "name": name}}
    obj = draw(fuzzing.broken_manifests(named))
    base = collection_of(template)
    method, path = draw(st.sampled_from([("POST", base), ("PUT", f"{base}/{name}")]))
    return Request(method, path, [("content-type", b"application/json")], fuzzing.dumps(obj))


def test_api_manifests_with_wrong_types(client: Client, form: Form, seed: int) -> None:
    fuzz(client, "api manifests", manifest_requests(), form, seed)


@st.composite
def status_requests(draw: st.DrawFn) -> Request:
    """A broken status PUT to a /status subresource, the setup's own objects included."""
    template = draw(st.sampled_from(TEMPLATES))
    name = draw(st.sampled_from([*NAMES, "fuzz"]))
    body = {"apiVersion": template["apiVersion"], "kind": template["kind"],
            "metadata": {"name": name}, "status": draw(fuzzing.broken_statuses)}
    return Request("PUT", f"{collection_of(template)}/{name}/status",
                   [("content-type", b"application/json")], fuzzing.dumps(body))


def test_api_status_subresource(client: Client, form: Form, seed: int) -> None:
    fuzz(client, "api status", status_requests(), form, seed)


def schemathesis_requests(mesh: Mesh) -> st.SearchStrategy[Request]:
    """Cases of every operation in the served /openapi.json: positive ones, and negative
    ones where there is a query or a body to break. Three in four go to a served kind's
    real path (its group, version and plural, with the `NAMES` objects), so that the
    bodies meet admission instead of a 404 for a random plural."""
    schema = schemathesis.openapi.from_url(mesh.url + "/openapi.json", headers=mesh.auth)
    cases = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the served document is valid OpenAPI
        operation = result.ok()
        cases.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        breakable = any(p.location.value == "query" for p in operation.iter_parameters())
        if breakable or operation.get_request_payload_content_types():
            cases.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    real = st.tuples(st.sampled_from([t for t in TEMPLATES if t["apiVersion"] != "v1"]),
                     st.sampled_from(NAMES))
    places = st.sampled_from([False, True, True, True]).flatmap(
        lambda is_real: real if is_real else st.none())
    return st.tuples(st.one_of(cases), places).map(lambda drawn: request_of_case(*drawn))


def request_of_case(case: Any, real: tuple[dict[str, Any], str] | None) -> Request:
    path = case.formatted_path
    # Only a resource path gets a real kind and name: the operations API's {id} is drawn.
    if real is not None and "{" in case.path and \
            set(re.findall(r"{(\w+)}", case.path)) <= {"group", "version", "namespace", "plural", "name"}:
        template, name = real
        if "{group}" not in case.path:  # the core group serves Secrets only
            template = TEMPLATES[-1]
        group, _, version = template["apiVersion"].rpartition("/")
        path = case.path.format(group=group, version=version, namespace="default",
                                plural=PLURALS[template["kind"]], name=name)
    query = dict(case.query or {})
    if str(query.get("watch", "")).lower() in ("true", "1") and \
            str(query.get("timeoutSeconds", "0")).isdigit():
        query["timeoutSeconds"] = 0  # a watch streams until its timeout; end it at once
    if query:
        path += "?" + urllib.parse.urlencode(
            {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in query.items()},
            errors="surrogateescape")
    headers = [(k, fuzzing.header_safe(str(v).encode("utf-8", "surrogateescape")))
               for k, v in (case.headers or {}).items()]
    body = b""
    if not isinstance(case.body, NotSet) and case.body is not None:
        body = case.body if isinstance(case.body, bytes) else fuzzing.dumps(case.body)
        headers.append(("content-type", (case.media_type or "application/json").encode()))
    return Request(case.method.upper(), path, headers, body)


def test_api_schemathesis(client: Client, mesh: Mesh, form: Form, seed: int) -> None:
    fuzz(client, "api schemathesis", schemathesis_requests(mesh), form, seed)


def test_ripple_survives_every_request(mesh: Mesh, client: Client, published: RecordingSink,
                                      form: Form) -> None:
    print("R4 " + form.name + "\n" + client.table())
    assert mesh.proc is not None and mesh.proc.poll() is None, "ripple up exited"
    assert mesh.send_event(BROKER, "after-the-fuzz") == 202
    assert mesh.send_event(CHANNEL, "after-the-fuzz") == 202
    errors = [line for line in mesh.log.read_text().splitlines()
              if '"level": "error"' in line and '"logger": "aiokafka"' not in line]
    # (aiokafka logs each refused connection of a KafkaSource the fuzz created validly.)
    assert not errors, f"{len(errors)} errors logged, the first:\n" + "\n".join(errors[:3])
    accepted = sum(client.statuses.get(t, {}).get(202, 0)
                   for t in ("github webhook", "gitlab webhook"))
    assert wait_until(lambda: len(published.received) >= accepted, timeout=30), \
        f"{len(published.received)} of {accepted} published deliveries reached the sink"
    for received in published.received:  # raises if a receiver published an invalid event
        ce.from_http(received.headers, received.body)
    for template in TEMPLATES:  # the status schema the API enforces fits what reconcilers write
        for obj in mesh.get(collection_of(template))["items"]:
            assert statuses.validate(obj.get("status")) == [], obj
    if set(client.counts) == set(TARGETS):  # the whole module ran, not a -k selection
        assert sum(client.counts.values()) >= REQUIRED_TOTAL, client.table()


@st.composite
def auth_requests(draw: st.DrawFn, token: bytes) -> Request:
    """Any control route, reads and writes of the setup's own objects included, with a
    wrong credential (`fuzzing.wrong_credentials`) or none."""
    template = draw(st.sampled_from(TEMPLATES))
    base = collection_of(template)
    name = draw(st.sampled_from([*NAMES, "fuzz"]))
    body = fuzzing.dumps({**template, "metadata": {**template["metadata"], "name": name}})
    method, path, payload = draw(st.sampled_from([
        ("GET", base, b""), ("POST", base, body), ("GET", f"{base}/{name}", b""),
        ("PUT", f"{base}/{name}", body), ("DELETE", f"{base}/{name}", b""),
        ("GET", f"{base}/{name}/status", b""), ("PUT", f"{base}/{name}/status", body),
        ("GET", f"{base}?watch=true&timeoutSeconds=0", b""), ("GET", "/apis", b""),
        ("GET", "/api/v1", b""), ("GET", "/openapi.json", b""), ("GET", "/docs", b""),
        ("GET", "/redoc", b""), ("GET", "/console", b""), ("GET", "/tail/default/fuzz", b""),
        ("DELETE", "/api/v1/namespaces/default/secrets/fuzz", b""),
        ("GET", "/apis/ripple.dev/v1/namespaces/default/deadletters", b""),
        ("GET", "/apis/ripple.dev/v1/deliverystats", b""),
        ("POST", "/apis/ripple.dev/v1/namespaces/default/deadletters/purge", b'{"all": true}'),
        ("POST", "/apis/ripple.dev/v1/namespaces/default/deadletters/redrive", b'{"all": true}')]))
    credential = draw(fuzzing.wrong_credentials(token))
    headers = [("content-type", b"application/json")]
    if credential is not None:
        headers.append(("authorization", credential))
    return Request(method, path, headers, payload, authorize=False)


def written_by_clients(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without what the reconcilers write: its status, the channel's
    `spec.subscribers` (filled from the Subscriptions the other targets left, when the data
    plane reports them ready, which may be during this target) and the versions that count
    those writes. A client's write, allowed or not, shows in what is left."""
    kept = {k: v for k, v in obj.items() if k != "status"}
    kept["metadata"] = {k: v for k, v in obj["metadata"].items()
                        if k not in ("resourceVersion", "generation")}
    if isinstance(obj.get("spec"), dict):
        kept["spec"] = {k: v for k, v in obj["spec"].items() if k != "subscribers"}
    return kept


def test_api_auth_header(client: Client, mesh: Mesh, form: Form, seed: int) -> None:
    """Issue #15: no wrong credential gets past the token check, and none changes anything."""
    watched = [f"{collection_of(o)}/fuzz" for o in setup_manifests("")]
    before = [written_by_clients(mesh.get(path)) for path in watched]
    fuzz(client, "api auth header", auth_requests(mesh.token.encode()), form, seed)
    assert set(client.statuses["api auth header"]) == {401}, client.statuses["api auth header"]
    assert [written_by_clients(mesh.get(path)) for path in watched] == before
