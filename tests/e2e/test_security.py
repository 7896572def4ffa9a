"""Issue #15 through `ripple up`: the control API needs its token, the data plane does not,
and the API can have a listener of its own.

Every control route is tried, the ones the served /openapi.json lists (each method, its
path parameters filled with real objects) and the ones it does not (`/openapi.json`
itself, `/docs`, `/redoc`, `/console`, `/tail`, a watch): with no token, a wrong one, one
of the right length but wrong, and the right one in another scheme, each answers 401 with
`WWW-Authenticate` and changes nothing; the right token is served.
"""

from __future__ import annotations

import json
import re
import socket
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ripple.cli import credentials
from tests.support.mesh import RIPPLE, Mesh, free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

BROKERS = "/apis/eventing.knative.dev/v1/namespaces/default/brokers"
SECRETS = "/api/v1/namespaces/default/secrets"
SETUP = """
apiVersion: v1
kind: Secret
metadata: {name: gh}
stringData: {token: supersecret}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: guarded}
---
apiVersion: messaging.knative.dev/v1
kind: InMemoryChannel
metadata: {name: open}
"""


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    m = Mesh(tmp_path_factory.mktemp("security")).start()
    try:
        m.apply(SETUP)
        m.wait_ready(f"{BROKERS}/guarded")
        m.wait_ready("/apis/messaging.knative.dev/v1/namespaces/default/inmemorychannels/open")
        yield m
    finally:
        m.stop()


def bad_credentials(token: str) -> list[dict[str, str]]:
    return [{}, {"Authorization": "Bearer wrong"},
            {"Authorization": "Bearer " + "x" * len(token)},
            {"Authorization": "Bearer " + token[:-1] + chr(ord(token[-1]) ^ 1)},
            {"Authorization": "Basic " + token}, {"Authorization": token}]


def control_routes(mesh: Mesh) -> list[tuple[str, str, bytes | None]]:
    """(method, path, body) of every control route: the OpenAPI document's operations with
    real objects in their paths, then the routes it does not list."""
    status, _, body = mesh.request("GET", "/openapi.json")
    assert status == 200
    values = {"group": "eventing.knative.dev", "version": "v1", "namespace": "default",
              "plural": "brokers", "name": "guarded"}
    core = dict(values, version="v1", plural="secrets", name="gh")
    routes = []
    for template, operations in json.loads(body)["paths"].items():
        if template == "/healthz":
            continue  # open by design: it follows the data plane, as probes expect
        for method in operations:
            params = core if template.startswith("/api/") else values
            filled = re.sub(r"{(\w+)}", lambda m: params.get(m.group(1), "x"), template)
            obj = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                   "metadata": {"name": "intruder" if filled.endswith("/brokers") else "guarded"}}
            if filled.startswith("/api/"):
                obj = {"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "intruder" if filled.endswith("/secrets") else "gh"},
                       "stringData": {"token": "stolen"}}
            routes.append((method.upper(), filled, json.dumps(obj).encode()
                           if method in ("post", "put") else None))
    assert len(routes) >= 15, routes  # every verb of both roots was found
    return routes + [("GET", p, None) for p in (
        "/openapi.json", "/docs", "/redoc", "/console", "/tail/default/guarded",
        f"{BROKERS}?watch=true&timeoutSeconds=1", "/apis", "/api/v1")]


def snapshot(mesh: Mesh) -> tuple[str, ...]:
    brokers = mesh.get(BROKERS)["items"]
    secrets = mesh.get(SECRETS)["items"]
    return tuple(json.dumps(o, sort_keys=True) for o in brokers + secrets)


def test_every_control_route_refuses_a_missing_or_wrong_token(mesh: Mesh) -> None:
    routes = control_routes(mesh)
    before = snapshot(mesh)
    for method, path, body in routes:
        for headers in bad_credentials(mesh.token):
            status, answer_headers, text = mesh.request(
                method, path, body, dict(headers, **{"Content-Type": "application/json"}),
                token=False)
            assert status == 401, (method, path, headers, status, text[:200])
            assert answer_headers.get("www-authenticate") == 'Bearer realm="ripple"'
            assert b"supersecret" not in text and b"c3VwZXJzZWNyZXQ" not in text
    assert snapshot(mesh) == before  # nothing created, replaced or deleted


def test_every_control_route_serves_the_right_token(mesh: Mesh) -> None:
    for method, path, body in control_routes(mesh):
        if method == "DELETE" or path.startswith("/tail/"):
            continue  # the deletes are below; the tail never ends
        status, _, text = mesh.request(method, path, body, {"Content-Type": "application/json"})
        assert status not in (401, 403) and status < 500, (method, path, status, text[:300])
    status, _, _ = mesh.request("DELETE", f"{BROKERS}/intruder")
    assert status == 200


def test_the_consoles_cookie_and_url_token_are_checked_like_the_header(mesh: Mesh) -> None:
    """The console's cookie counts on every control path, its `?token=` on /console only."""
    for path, headers, wanted in (
        (BROKERS, {"Cookie": "ripple-token=wrong"}, 401),
        (BROKERS, {"Cookie": f"ripple-token={mesh.token}"}, 200),
        (f"{BROKERS}?token={mesh.token}", {}, 401),  # a token in a URL ends up in logs
        ("/console/?token=wrong", {}, 401),
        ("/console/serving", {"Cookie": f"ripple-token={mesh.token}"}, 200),
    ):
        status, _, text = mesh.request("GET", path, None, headers, token=False)
        assert status == wanted, (path, headers, status, text[:200])


def test_the_data_plane_needs_no_api_token(mesh: Mesh) -> None:
    assert mesh.send_event("/default/guarded", "open-1") == 202
    assert mesh.send_event("/channels/default/open", "open-2") == 202
    for path in ("/healthz", "/metrics"):
        assert mesh.request("GET", path, token=False)[0] == 200
    # the webhook receivers: tests/e2e/test_sources.py posts to them with no API token


def test_the_token_is_private_and_recorded_for_the_cli(mesh: Mesh) -> None:
    token_file = mesh.data_dir / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() == mesh.token
    config = credentials.config_path(mesh.env)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert f"API token in {token_file}" in mesh.log.read_text()


def test_the_cli_finds_the_token_or_says_where_it_is(mesh: Mesh, tmp_path: Path) -> None:
    assert "guarded" in mesh.cli("get", "brokers").stdout  # through the config, no flag
    elsewhere = {"RIPPLE_CONFIG": str(tmp_path / "none.yaml")}
    refused = run_cli(mesh, elsewhere, "get", "brokers")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "needs its token" in refused.stderr
    assert "RIPPLE_TOKEN" in refused.stderr
    assert "guarded" in run_cli(mesh, dict(elsewhere, RIPPLE_TOKEN=mesh.token), "get", "brokers").stdout
    assert "guarded" in run_cli(mesh, elsewhere, "--token", mesh.token, "get", "brokers").stdout
    wrong = run_cli(mesh, elsewhere, "get", "brokers", "--token", "nope")
    assert wrong.returncode == 1 and "token was refused" in wrong.stderr


def run_cli(mesh: Mesh, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RIPPLE, *args], text=True, capture_output=True, timeout=60,
                          env=dict(mesh.env, RIPPLE_SERVER=mesh.url, **env))


def test_insecure_api_is_open_and_says_so_on_every_start(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path / "data", extra=["--insecure-api"]).start()
    try:
        assert mesh.request("GET", "/apis", token=False)[0] == 200
        mesh.apply("apiVersion: v1\nkind: Secret\nmetadata: {name: gh}\nstringData: {token: supersecret}\n")
        for path in (f"{SECRETS}/gh", SECRETS, f"{SECRETS}?watch=true&timeoutSeconds=1"):
            status, _, body = mesh.request("GET", path, token=False)
            assert status == 200 and b"gh" in body
            assert b"c3VwZXJzZWNyZXQ" not in body and b'"data"' not in body, path  # still hidden
        assert mesh.get(f"{SECRETS}/gh")["data"] == {"token": "c3VwZXJzZWNyZXQ="}  # with the token
    finally:
        mesh.stop()
    mesh.start()
    try:
        warnings = re.findall(r"Warning: --insecure-api", mesh.log.read_text())
        assert len(warnings) == 2
    finally:
        mesh.stop()


def reachable(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, port)) == 0


def test_api_port_keeps_the_control_api_off_the_data_plane_address(tmp_path: Path) -> None:
    mesh = Mesh(tmp_path / "data", host="127.0.0.2", api_port=free_port()).start()
    try:
        assert mesh.api_port is not None
        assert mesh.get("/apis")["resources"]  # on 127.0.0.1:<api-port>, with the token
        assert not reachable("127.0.0.2", mesh.api_port)  # the API port is not on that address
        assert not reachable("127.0.0.1", mesh.port)  # nor is the data plane on the API's
        for path in ("/apis", "/api/v1/namespaces/default/secrets", "/openapi.json", "/tail/default/b"):
            request = urllib.request.Request(mesh.data_url + path, headers=mesh.auth)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == 404, path
        with urllib.request.urlopen(mesh.data_url + "/metrics", timeout=5) as r:
            assert r.status == 200
        with pytest.raises(urllib.error.HTTPError) as no_metrics:
            urllib.request.urlopen(mesh.url + "/metrics", timeout=5)
        assert no_metrics.value.code == 404
        mesh.apply("apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: split}\n")
        broker = mesh.wait_ready(f"{BROKERS}/split")
        assert broker["status"]["address"]["url"] == f"{mesh.data_url}/default/split"
        assert mesh.send_event("/default/split", "split-1") == 202
        assert mesh.request("GET", "/apis", token=False)[0] == 401
    finally:
        mesh.stop()


LOCKED = """
apiVersion: v1
kind: Secret
metadata: {name: ingress}
stringData: {token: first-token}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: locked
  annotations: {ripple.dev/ingress-auth: ingress}
---
apiVersion: messaging.knative.dev/v1
kind: InMemoryChannel
metadata:
  name: locked
  annotations: {ripple.dev/ingress-auth: ingress}
"""


def send_as(mesh: Mesh, path: str, token: str | None, event_id: str) -> tuple[int, dict[str, str]]:
    headers = {"ce-specversion": "1.0", "ce-id": event_id, "ce-source": "/tests",
               "ce-type": "dev.example.test", "content-type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    status, answer_headers, _ = mesh.post(path, b'{"n": 1}', headers)
    return status, answer_headers


def test_ingress_auth_refuses_anonymous_events_and_takes_the_secret_s_token(mesh: Mesh) -> None:
    mesh.apply(LOCKED)
    mesh.wait_ready(f"{BROKERS}/locked")
    mesh.wait_ready("/apis/messaging.knative.dev/v1/namespaces/default/inmemorychannels/locked")
    for path in ("/default/locked", "/channels/default/locked"):
        for token in (None, "wrong", "first-tokeN", mesh.token):
            status, headers = send_as(mesh, path, token, "anon")
            assert status == 401, (path, token)
            assert headers.get("www-authenticate", "").startswith("Bearer realm=")
        assert send_as(mesh, path, "first-token", "ok")[0] == 202
    assert mesh.send_event("/default/guarded", "still-open") == 202  # no annotation, no token


def test_ingress_token_rotation_takes_effect_within_seconds(mesh: Mesh) -> None:
    mesh.apply(LOCKED)
    mesh.wait_ready(f"{BROKERS}/locked")
    assert send_as(mesh, "/default/locked", "first-token", "r0")[0] == 202
    mesh.apply("apiVersion: v1\nkind: Secret\nmetadata: {name: ingress}\n"
               "stringData: {token: second-token, previous: first-token}\n")
    wait_until(lambda: send_as(mesh, "/default/locked", "second-token", "r1")[0] == 202, timeout=10)
    assert send_as(mesh, "/default/locked", "first-token", "r2")[0] == 202  # overlap
    mesh.apply("apiVersion: v1\nkind: Secret\nmetadata: {name: ingress}\n"
               "stringData: {token: second-token}\n")
    wait_until(lambda: send_as(mesh, "/default/locked", "first-token", "r3")[0] == 401, timeout=10)
    assert send_as(mesh, "/default/locked", "second-token", "r4")[0] == 202
    mesh.apply(LOCKED)  # back to the first token for the other tests
    wait_until(lambda: send_as(mesh, "/default/locked", "first-token", "r5")[0] == 202, timeout=10)


def test_event_send_finds_the_ingress_token_or_takes_it(mesh: Mesh, tmp_path: Path) -> None:
    mesh.apply(LOCKED)
    mesh.wait_ready(f"{BROKERS}/locked")
    sent = mesh.cli("event", "send", "--to", "broker:locked", "--type", "t", "--source", "/s")
    assert "status 202" in sent.stdout
    url = f"{mesh.data_url}/default/locked"
    elsewhere = {"RIPPLE_CONFIG": str(tmp_path / "none.yaml")}
    refused = run_cli(mesh, elsewhere, "event", "send", "--to", url, "--type", "t", "--source", "/s")
    assert refused.returncode == 1 and "401" in refused.stderr and "--ingress-token" in refused.stderr
    taken = run_cli(mesh, elsewhere, "event", "send", "--to", url, "--type", "t", "--source", "/s",
                    "--ingress-token", "first-token")
    assert "status 202" in taken.stdout, taken.stderr


def test_a_source_sends_its_sink_s_ingress_token(mesh: Mesh) -> None:
    from tests.support.sinks import RecordingSink

    mesh.apply(LOCKED)
    with RecordingSink() as sink:
        mesh.apply(f"""
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: from-ping}}
spec:
  broker: locked
  subscriber: {{uri: "{sink.url}"}}
---
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata: {{name: into-locked}}
spec:
  schedule: "* * * * * *"
  data: '{{"n": 1}}'
  sink: {{ref: {{apiVersion: eventing.knative.dev/v1, kind: Broker, name: locked}}}}
""")
        mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/from-ping")
        got = sink.wait_for(1, timeout=30)
        assert got[0].ce["type"] == "dev.knative.sources.ping"
    mesh.cli("delete", "pingsource", "into-locked")


def test_a_secret_s_data_appears_nowhere_but_in_an_authorized_read(mesh: Mesh) -> None:
    value, encoded = "s3cr3t-at-rest-value", "czNjcjN0LWF0LXJlc3QtdmFsdWU="
    mesh.apply(f"""
apiVersion: v1
kind: Secret
metadata: {{name: at-rest}}
stringData: {{token: {value}, other: {value}}}
---
apiVersion: sources.knative.dev/v1alpha1
kind: GitHubSource
metadata: {{name: at-rest}}
spec:
  ownerAndRepository: o/r
  eventTypes: [push]
  accessToken: {{secretKeyRef: {{name: at-rest, key: token}}}}
  secretToken: {{secretKeyRef: {{name: at-rest, key: missing}}}}
  sink: {{uri: "http://127.0.0.1:9/"}}
""")
    described = mesh.cli("describe", "secret", "at-rest").stdout
    assert "token:" in described and f"{len(value)} bytes" in described
    shown = mesh.cli("get", "secret", "at-rest", "-o", "yaml").stdout  # with the token
    assert encoded in shown
    source = mesh.get("/apis/sources.knative.dev/v1alpha1/namespaces/default/githubsources/at-rest")
    wait_until(lambda: "missing" in json.dumps(mesh.get(
        "/apis/sources.knative.dev/v1alpha1/namespaces/default/githubsources/at-rest").get("status")))
    everything = [described, json.dumps(source), mesh.log.read_text()]
    for rtype in mesh.get("/apis")["resources"]:
        if rtype["kind"] != "Secret":
            group = f"/apis/{rtype['group']}/{rtype['version']}" if rtype["group"] else "/api/v1"
            everything.append(json.dumps(mesh.get(f"{group}/{rtype['plural']}")))
    for text in everything:  # logs, statuses and conditions, describe
        assert value not in text and encoded not in text
    mesh.cli("delete", "githubsource", "at-rest")
