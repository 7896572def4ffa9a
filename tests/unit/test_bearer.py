"""Tables for `ripple.bearer` (reading and checking `Authorization: Bearer`) and for the
local platform's front (`routing.make_root`): which paths need the API token, and which
listener serves what with `--api-port` (issue #15)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from controllers.platforms.local import routing
from ripple import bearer

TOKEN = b"k" * 43


@pytest.mark.parametrize("headers, expected", [
    ([], None),
    ([(b"authorization", b"Bearer abc")], b"abc"),
    ([(b"Authorization", b"bearer abc")], b"abc"),  # the scheme is case-insensitive
    ([(b"authorization", b"BEARER   abc  ")], b"abc"),
    ([(b"authorization", b"Basic abc")], None),
    ([(b"authorization", b"Bearer")], None),
    ([(b"authorization", b"Bearer ")], None),
    ([(b"authorization", b"abc")], None),
    ([(b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")], b"a"),  # the first
    ([(b"x-authorization", b"Bearer abc")], None),
])
def test_presented(headers: list[tuple[bytes, bytes]], expected: bytes | None) -> None:
    assert bearer.presented(headers) == expected


@pytest.mark.parametrize("token, tokens, expected", [
    (TOKEN, [TOKEN], True),
    (None, [TOKEN], False),
    (b"", [TOKEN], False),
    (TOKEN[:-1] + b"x", [TOKEN], False),  # right length, wrong
    (TOKEN + b"k", [TOKEN], False),
    (TOKEN[:-1], [TOKEN], False),
    (b"new", [b"old", b"new"], True),  # any of a Secret's values: rotation overlaps
    (b"old", [b"old", b"new"], True),
    (TOKEN, [], False),
])
def test_allowed(token: bytes | None, tokens: list[bytes], expected: bool) -> None:
    assert bearer.allowed(token, tokens) is expected


class Recorder:
    """An ASGI app that answers 200 with its own name."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": self.name.encode()})


def make(token: str | None = TOKEN.decode(), api_port: int | None = None,
         insecure: bool = False) -> Any:
    return routing.make_root(api=Recorder("api"), ingress=Recorder("ingress"), tail=Recorder("tail"),
                             channels=Recorder("channels"), webhooks=Recorder("webhooks"),
                             token=token, api_port=api_port, insecure=insecure)


async def call(app: Any, path: str, authorization: bytes | None = None,
               port: int = 8080) -> tuple[int, dict[bytes, bytes], bytes]:
    headers = [(b"authorization", authorization)] if authorization is not None else []
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers,
             "server": ("127.0.0.1", port)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], dict(sent[0].get("headers", [])), sent[1]["body"]


CONTROL = ["/apis", "/apis/eventing.knative.dev/v1/namespaces/default/brokers", "/api",
           "/api/v1/namespaces/default/secrets/gh", "/openapi.json", "/docs", "/redoc",
           "/docs/oauth2-redirect", "/console", "/console/", "/tail/default/b"]
DATA = [("/default/b", "ingress"), ("/apisx/b", "ingress"), ("/docsns/b", "ingress"),
        ("/channels/default/c", "channels"), ("/webhooks/github/default/s", "webhooks"),
        ("/healthz", "ok")]


@pytest.mark.parametrize("path", CONTROL)
@pytest.mark.parametrize("authorization", [None, b"Bearer wrong", b"Bearer " + b"x" * len(TOKEN),
                                           b"Basic " + TOKEN, TOKEN, b"Bearer " + TOKEN + b"x"])
async def test_a_control_path_refuses_any_other_credential(path: str, authorization: bytes | None) -> None:
    status, headers, body = await call(make(), path, authorization)
    assert status == 401
    assert headers[b"www-authenticate"] == b'Bearer realm="ripple"'
    assert json.loads(body)["reason"] == "Unauthorized"


@pytest.mark.parametrize("path", CONTROL)
async def test_a_control_path_takes_the_token(path: str) -> None:
    status, _, body = await call(make(), path, b"Bearer " + TOKEN)
    assert (status, body) == (200, b"tail" if path.startswith("/tail/") else b"api")


@pytest.mark.parametrize("path", CONTROL)
async def test_insecure_api_takes_anyone(path: str) -> None:
    assert (await call(make(insecure=True), path))[0] == 200


@pytest.mark.parametrize("path, app", DATA)
async def test_the_data_plane_needs_no_token(path: str, app: str) -> None:
    assert await call(make(), path) == (200, {**({b"content-type": b"text/plain; charset=utf-8"}
                                                 if app == "ok" else {})}, app.encode())


@pytest.mark.parametrize("path", CONTROL + ["/metrics", "/default/b", "/channels/default/c"])
async def test_with_api_port_each_listener_serves_its_own(path: str) -> None:
    app = make(api_port=9090)
    on_data = await call(app, path, b"Bearer " + TOKEN, port=8080)
    on_api = await call(app, path, b"Bearer " + TOKEN, port=9090)
    if path in CONTROL:
        assert on_data[0] == 404 and b"not served on this listener" in on_data[2]
        assert on_api[0] == 200
    else:
        assert on_data[0] == 200
        assert on_api[0] == 404
    for port in (8080, 9090):  # health is probed on either
        assert (await call(app, "/healthz", port=port))[0] == 200
