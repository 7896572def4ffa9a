"""The local API server (`controllers.platforms.local.apiserver`) over the memory store.

Requests go straight to the ASGI app (no sockets, no httpx): `call` for plain requests,
`watch` for streams, which it ends by sending `http.disconnect` like a client that goes
away. Kinds and admission are local stand-ins, so only the server's own rules are tested.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from controllers.platforms.local import apiserver
from ripple import errors
from ripple.store import MemoryResourceStore


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...] = field(default=())
    namespaced: bool = True
    also_served: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_versions(self) -> tuple[str, ...]:
        return (self.api_version,)


BROKER = Kind("eventing.knative.dev", "v1", "Broker", "brokers", "broker", ("bk",))
SECRET = Kind("", "v1", "Secret", "secrets", "secret")
KINDS = [BROKER, SECRET]
BROKERS = "/apis/eventing.knative.dev/v1/namespaces/ns/brokers"


def resolve(api_version: str, kind: str) -> Any:
    for k in KINDS:
        if (k.api_version, k.kind) == (api_version, kind):
            return k
    raise errors.NotFound(f"no {kind}")


def admit(obj: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """A stand-in for `loading.admit`: one default, one rule, one immutable field."""
    obj = copy.deepcopy(obj)
    if obj["kind"] != "Broker":
        return obj
    spec = obj.setdefault("spec", {})
    spec.setdefault("delivery", {"retry": 3})
    problems = []
    if spec["delivery"].get("retry", 0) < 0:
        problems.append(errors.FieldError("spec.delivery.retry", "must be >= 0"))
    if old is not None and spec.get("config") != old.get("spec", {}).get("config"):
        problems.append(errors.FieldError("spec.config", "Immutable field"))
    if problems:
        raise errors.Invalid(problems, status=422)
    return obj


def broker(name: str = "b", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": name},
        "spec": spec,
    }


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


async def drive(app: Any, method: str, path: str, body: Any, until: Any) -> Answer:
    """Run one request; `until(body_so_far)` says when the client has seen enough."""
    path, _, query = path.partition("?")
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "headers": [(b"content-type", b"application/json")],
    }
    requests = [{"type": "http.request", "body": raw, "more_body": False}]
    gone = asyncio.Event()
    answer = Answer(0, {}, b"")

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        else:
            answer.body += message.get("body", b"")
            if until(answer.body):
                gone.set()

    await asyncio.wait_for(app(scope, receive, send), 5)
    return answer


async def call(app: Any, method: str, path: str, body: Any = None) -> Answer:
    return await drive(app, method, path, body, lambda _: False)


async def watch(app: Any, path: str, lines: int,
                first: asyncio.Event | None = None) -> list[tuple[str, str, str]]:
    """The first `lines` events of a watch; `first` is set once one event has arrived."""
    def enough(body: bytes) -> bool:
        if first is not None and b"\n" in body:
            first.set()
        return body.count(b"\n") >= lines

    answer = await drive(app, "GET", path, None, enough)
    assert answer.status == 200
    events = [json.loads(line) for line in answer.body.splitlines()]
    return [
        (e["type"], e["object"]["metadata"].get("name", ""), e["object"].get("reason", ""))
        for e in events
    ]


@pytest.fixture
def store() -> MemoryResourceStore:
    return MemoryResourceStore(resolve=resolve)


@pytest.fixture
def app(store: MemoryResourceStore) -> Any:
    return apiserver.make_api(store, kinds=KINDS, admit=admit)


async def test_healthz_and_discovery(app: Any) -> None:
    health = await call(app, "GET", "/healthz")
    assert (health.status, health.body) == (200, b"ok")
    resources = (await call(app, "GET", "/apis")).json()["resources"]
    assert resources[0] == {
        "group": "eventing.knative.dev",
        "version": "v1",
        "kind": "Broker",
        "plural": "brokers",
        "singular": "broker",
        "shortNames": ["bk"],
        "namespaced": True,
    }
    assert [r["kind"] for r in resources] == ["Broker", "Secret"]


async def test_create_get_list_delete(app: Any) -> None:
    created = await call(app, "POST", BROKERS, {**broker(), "status": {"forged": True}})
    assert created.status == 201
    obj = created.json()
    assert obj["metadata"]["namespace"] == "ns"  # from the URL
    assert obj["spec"] == {"delivery": {"retry": 3}}  # admitted, defaulted
    assert "status" not in obj  # a subresource: not written by create
    assert (await call(app, "GET", f"{BROKERS}/b")).json() == obj
    listing = (await call(app, "GET", BROKERS)).json()
    assert (listing["apiVersion"], listing["kind"], listing["items"]) == (
        "eventing.knative.dev/v1",
        "BrokerList",
        [obj],
    )
    assert listing["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    everywhere = (await call(app, "GET", "/apis/eventing.knative.dev/v1/brokers")).json()
    assert everywhere["items"] == [obj]
    deleted = await call(app, "DELETE", f"{BROKERS}/b")
    assert (deleted.status, deleted.json()["metadata"]["name"]) == (200, "b")
    assert (await call(app, "GET", BROKERS)).json()["items"] == []


async def test_delete_options_uid_precondition(app: Any) -> None:
    uid = (await call(app, "POST", BROKERS, broker())).json()["metadata"]["uid"]
    stale = await call(app, "DELETE", f"{BROKERS}/b", {"preconditions": {"uid": "not-" + uid}})
    assert stale.status == 409 and "Precondition failed" in stale.json()["message"]
    bad = await call(app, "DELETE", f"{BROKERS}/b", {"preconditions": {"uid": 7}})
    assert bad.status == 400 and "preconditions.uid" in bad.json()["message"]
    assert (await call(app, "DELETE", f"{BROKERS}/b", {"preconditions": {"uid": uid}})).status == 200


async def test_core_group_secret(app: Any) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"k": "v"},
    }
    assert (await call(app, "POST", "/api/v1/namespaces/ns/secrets", secret)).status == 201
    got = (await call(app, "GET", "/api/v1/namespaces/ns/secrets/s")).json()
    assert (got["stringData"], got["metadata"]["namespace"]) == ({"k": "v"}, "ns")


# (method, path, body, status, reason, message part, causes)
FAILURES = [
    (
        "GET",
        f"{BROKERS}/missing",
        None,
        404,
        "NotFound",
        'brokers.eventing.knative.dev "missing" not found',
        None,
    ),
    (
        "GET",
        "/apis/eventing.knative.dev/v1/namespaces/ns/brokerz",
        None,
        404,
        "NotFound",
        "served: brokers.eventing.knative.dev/v1, secrets.v1",
        None,
    ),
    (
        "GET",
        "/apis/eventing.knative.dev/v9/namespaces/ns/brokers",
        None,
        404,
        "NotFound",
        "v9",
        None,
    ),
    ("GET", "/nothing/here", None, 404, "NotFound", "no API at /nothing/here", None),
    ("PATCH", f"{BROKERS}/b", {}, 405, "MethodNotAllowed", "method PATCH is not allowed", None),
    # Found by the R4 fuzz check: each of these bodies was stored, and every later read or
    # list of its kind answered 500 (no JSON response can carry NaN or a lone surrogate).
    (
        "POST",
        BROKERS,
        b'{"metadata": {"name": "n"}, "spec": {"x": NaN}}',
        400,
        "BadRequest",
        "NaN is not a JSON value",
        None,
    ),
    (
        "POST",
        BROKERS,
        b'{"metadata": {"name": "\\ud800"}}',
        400,
        "BadRequest",
        "lone surrogate",
        None,
    ),
    ("POST", BROKERS, b"[" * 100_000, 400, "BadRequest", "nested too deeply", None),
    ("POST", BROKERS, b"\xff{}", 400, "BadRequest", "not JSON", None),
    (
        "PUT",
        f"{BROKERS}/b/status",
        {"status": 3},
        422,
        "Invalid",
        "status: must be a mapping, got an integer",
        [{"field": "status", "message": "must be a mapping, got an integer"}],
    ),
    (
        "PUT",
        f"{BROKERS}/b/status",
        {"status": {"ready": True, "physicalSubscription": 5}},
        422,
        "Invalid",
        "status.physicalSubscription: must be a mapping",
        [{"field": "status.physicalSubscription", "message": "must be a mapping, got an integer"}],
    ),
    ("POST", BROKERS, broker(), 409, "AlreadyExists", '"b" already exists', None),
    (
        "POST",
        BROKERS,
        broker("c", delivery={"retry": -1}),
        422,
        "Invalid",
        "spec.delivery.retry",
        [{"field": "spec.delivery.retry", "message": "must be >= 0"}],
    ),
    (
        "POST",
        BROKERS,
        {**broker("c"), "metadata": {"name": "c", "namespace": "other"}},
        400,
        "BadRequest",
        "does not match the namespace",
        None,
    ),
    ("POST", BROKERS, {**broker("c"), "kind": "Trigger"}, 400, "BadRequest", "kind", None),
    ("POST", BROKERS, b"{not json", 400, "BadRequest", "not JSON", None),
    ("POST", BROKERS, [1, 2], 400, "BadRequest", "must be a JSON object", None),
    ("PUT", f"{BROKERS}/b", broker("other"), 400, "BadRequest", "does not match the name", None),
    ("PUT", f"{BROKERS}/zz", broker("zz"), 404, "NotFound", '"zz" not found', None),
    (
        "PUT",
        f"{BROKERS}/b",
        broker(config={"name": "x"}),
        422,
        "Invalid",
        "Immutable",
        [{"field": "spec.config", "message": "Immutable field"}],
    ),
    (
        "PUT",
        f"{BROKERS}/b",
        {**broker(), "metadata": {"name": "b", "resourceVersion": "0"}},
        409,
        "Conflict",
        "the object has been modified",
        None,
    ),
    (
        "GET",
        f"{BROKERS}?watch=true&resourceVersion=abc",
        None,
        400,
        "BadRequest",
        "metadata.resourceVersion",
        None,
    ),
]


@pytest.mark.parametrize("method, path, body, status, reason, message, causes", FAILURES)
async def test_errors_are_kubernetes_statuses(
    app: Any,
    method: str,
    path: str,
    body: Any,
    status: int,
    reason: str,
    message: str,
    causes: list[dict[str, str]] | None,
) -> None:
    assert (await call(app, "POST", BROKERS, broker())).status == 201
    answer = await call(app, method, path, body)
    got = answer.json()
    assert (answer.status, got["kind"], got["status"], got["code"], got["reason"]) == (
        status,
        "Status",
        "Failure",
        status,
        reason,
    )
    assert message in got["message"]
    if causes is not None:
        assert got["details"]["causes"] == causes


async def test_a_method_the_route_lacks_is_405_with_allow(app: Any) -> None:
    # Found by the R4 fuzz check: the router's 405 had no Allow header and said only
    # "Method Not Allowed".
    answer = await call(app, "PATCH", f"{BROKERS}/b", {})
    assert answer.status == 405
    assert set(answer.headers["allow"].split(", ")) >= {"GET", "PUT", "DELETE"}
    assert f"on {BROKERS}/b" in answer.json()["message"]


async def test_a_status_that_is_not_a_mapping_is_refused(app: Any) -> None:
    # Found by the R4 fuzz check: `{"status": 3}` was stored, and every reconcile of the
    # object crashed on it from then on.
    await call(app, "POST", BROKERS, broker())
    for status in (3, [], "Ready"):
        answer = await call(app, "PUT", f"{BROKERS}/b/status", {"status": status})
        assert (answer.status, answer.json()["details"]["causes"][0]["field"]) == (422, "status")
    assert (await call(app, "GET", f"{BROKERS}/b")).json().get("status") in (None, {})


def test_openapi_declares_every_path_parameter_query_and_body(app: Any) -> None:
    # Found by the R4 fuzz check: the paths' {parameters} were undeclared (invalid OpenAPI,
    # so no client or fuzzer could build a request) and no operation had a body.
    document = app.openapi()
    for path, operations in document["paths"].items():
        wanted = set(re.findall(r"{(\w+)}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == wanted, (method, path)
            assert ("requestBody" in operation) == (method in ("post", "put")), (method, path)
    collection = document["paths"]["/apis/{group}/{version}/namespaces/{namespace}/{plural}"]
    query = {p["name"] for p in collection["get"]["parameters"] if p["in"] == "query"}
    assert query == {"watch", "resourceVersion", "timeoutSeconds"}


async def test_unavailable_store_is_503_with_retry_after(store: MemoryResourceStore) -> None:
    class Down(MemoryResourceStore):
        async def get(self, *args: Any) -> dict[str, Any]:
            raise errors.StoreUnavailable("resource store unavailable: down", delay=2.4)

    app = apiserver.make_api(Down(resolve=resolve), kinds=KINDS, admit=admit)
    answer = await call(app, "GET", f"{BROKERS}/b")
    assert (answer.status, answer.headers["retry-after"], answer.json()["reason"]) == (
        503,
        "2",
        "ServiceUnavailable",
    )


async def test_replace_and_status(app: Any) -> None:
    created = (await call(app, "POST", BROKERS, {**broker(config={"name": "c"})})).json()
    current = (await call(app, "PUT", f"{BROKERS}/b/status", {"status": {"ready": True}})).json()
    replaced = await call(
        app,
        "PUT",
        f"{BROKERS}/b",
        {**current, "spec": {"config": {"name": "c"}, "delivery": {"retry": 5}}},
    )
    got = replaced.json()
    assert (replaced.status, got["metadata"]["generation"]) == (200, 2)
    assert (got["spec"]["delivery"], got["status"]) == ({"retry": 5}, {"ready": True})
    status = (await call(app, "PUT", f"{BROKERS}/b/status", {"status": {"ready": False}})).json()
    assert (status["status"], status["spec"]) == ({"ready": False}, got["spec"])
    assert (await call(app, "GET", f"{BROKERS}/b/status")).json() == status
    stale = await call(app, "PUT", f"{BROKERS}/b", created)  # created's resourceVersion is old
    assert stale.status == 409


async def test_watch_from_a_version_streams_later_changes_of_its_namespace(
    app: Any, store: MemoryResourceStore
) -> None:
    await call(app, "POST", BROKERS, broker("old"))
    since = await store.current_version()

    async def write() -> None:  # before or during the watch: it starts at `since` either way
        await call(app, "POST", BROKERS.replace("/ns/", "/elsewhere/"), broker("other"))
        await call(app, "POST", BROKERS, broker("new"))
        await call(app, "DELETE", f"{BROKERS}/old")

    writer = asyncio.create_task(write())
    events = await watch(app, f"{BROKERS}?watch=true&resourceVersion={since}", 2)
    await writer
    assert events == [("ADDED", "new", ""), ("DELETED", "old", "")]


async def test_watch_without_a_version_starts_with_the_current_objects(app: Any) -> None:
    await call(app, "POST", BROKERS, broker("a"))

    listed = asyncio.Event()

    async def write() -> None:  # once the watch has listed "a", so the change is an event
        await listed.wait()
        await call(app, "PUT", f"{BROKERS}/a/status", {"status": {"ready": True}})

    writer = asyncio.create_task(write())
    assert await watch(app, f"{BROKERS}?watch=1", 2, listed) == [("ADDED", "a", ""), ("MODIFIED", "a", "")]
    await writer


async def test_watch_ends_at_its_timeout(app: Any) -> None:
    answer = await call(app, "GET", f"{BROKERS}?watch=true&resourceVersion=0&timeoutSeconds=0")
    assert (answer.status, answer.body) == (200, b"")


async def test_watch_too_old_ends_with_an_error_line() -> None:
    store = MemoryResourceStore(resolve=resolve, history=1)
    app = apiserver.make_api(store, kinds=KINDS, admit=admit)
    for name in "abc":
        await call(app, "POST", BROKERS, broker(name))
    assert await watch(app, f"{BROKERS}?watch=true&resourceVersion=1", 1) == [
        ("ERROR", "", "Conflict")
    ]


async def test_wired_to_the_real_registry_and_admission() -> None:
    app = apiserver.make_api(MemoryResourceStore())  # registry.kinds(), loading.admit
    kinds = {r["kind"] for r in (await call(app, "GET", "/apis")).json()["resources"]}
    assert {"Broker", "Trigger", "Secret"} <= kinds
    created = await call(
        app,
        "POST",
        "/apis/eventing.knative.dev/v1/namespaces/ns/brokers",
        {
            "apiVersion": "eventing.knative.dev/v1",
            "kind": "Broker",
            "metadata": {"name": "default"},
        },
    )
    assert created.status == 201
    assert created.json()["metadata"]["annotations"]["eventing.knative.dev/broker.class"]
    trigger = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "t"},
        "spec": {"broker": "default"},
    }
    invalid = await call(
        app, "POST", "/apis/eventing.knative.dev/v1/namespaces/ns/triggers", trigger
    )
    assert (invalid.status, invalid.json()["reason"]) == (422, "Invalid")
    assert invalid.json()["details"]["causes"][0]["field"] == "spec.subscriber"


async def test_discovery_lists_every_served_version_stored_first() -> None:
    # KafkaSource is stored as v1 and also served as v1beta1; a client matching a
    # manifest's apiVersion exactly must find both (it refused v1beta1 when only v1 was listed).
    app = apiserver.make_api(MemoryResourceStore())
    resources = (await call(app, "GET", "/apis")).json()["resources"]
    versions = [r["version"] for r in resources if r["kind"] == "KafkaSource"]
    assert versions == ["v1", "v1beta1"]
    assert [r["version"] for r in resources if r["kind"] == "Broker"] == ["v1"]
