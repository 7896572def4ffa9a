"""Which requests the local platform's front gives to whom (`routing.route`, `data_route`),
and which of them the ingress's fast path takes (`make_pick`): the ASGI root and the fast
path decide by the same two functions."""

from __future__ import annotations

from typing import Any

import pytest

from channels.fastpath import encode
from controllers.platforms.local import routing

API = 9001
DATA = 8080


@pytest.mark.parametrize(("path", "port", "api_port", "wanted"), [
    ("/healthz", DATA, None, routing.HEALTH),
    ("/healthz", API, API, routing.HEALTH),
    ("/default/default", DATA, None, routing.DATA),
    ("/apis/eventing.knative.dev/v1", DATA, None, routing.CONTROL),
    ("/apisx/b", DATA, None, routing.DATA),
    ("/console/", DATA, None, routing.CONTROL),
    ("/tail/default/default", DATA, None, routing.CONTROL),
    ("/apis", DATA, API, routing.NOT_CONTROL),
    ("/apis", API, API, routing.CONTROL),
    ("/default/default", API, API, routing.NOT_DATA),
    ("/default/default", DATA, API, routing.DATA),
    ("/metrics", DATA, API, routing.DATA),
])
def test_route(path: str, port: int, api_port: int | None, wanted: str) -> None:
    assert routing.route(path, port, api_port) == wanted


@pytest.mark.parametrize(("path", "wanted"), [
    ("/metrics", routing.METRICS),
    ("/channels/default/c", routing.CHANNELS),
    ("/webhooks/github/default/s", routing.WEBHOOKS),
    ("/default/default", routing.INGRESS),
    ("/", routing.INGRESS),
    ("/metricsx", routing.INGRESS),
])
def test_data_route(path: str, wanted: str) -> None:
    assert routing.data_route(path) == wanted


class Router:
    """Claims `/serving/` paths and the Host `r.example`, as the serving router would."""

    def claims(self, scope: Any) -> bool:
        host = dict(scope["headers"]).get(b"host")
        return bool(scope["path"].startswith("/serving/") or host == b"r.example")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not called")


BROKER, CHANNEL = object(), object()


@pytest.mark.parametrize(("path", "port", "host", "wanted"), [
    ("/default/default", DATA, b"x", BROKER),
    ("/a/b/c", DATA, b"x", BROKER),  # the broker ingress answers 400 for it
    ("/channels/default/c", DATA, b"x", CHANNEL),
    ("/default/default", API, b"x", None),  # 404 on the API's own listener
    ("/apis/x", DATA, b"x", None),
    ("/healthz", DATA, b"x", None),
    ("/metrics", DATA, b"x", None),
    ("/webhooks/github/default/s", DATA, b"x", None),
    ("/serving/default/r", DATA, b"x", None),
    ("/default/default", DATA, b"r.example", None),  # a Route's Host
])
def test_make_pick(path: str, port: int, host: bytes, wanted: object) -> None:
    pick = routing.make_pick(ingress=BROKER, channels=CHANNEL, router=Router(),  # type: ignore[arg-type]
                             api_port=API)
    assert pick(path, ("127.0.0.1", port), [(b"host", host)]) is wanted


@pytest.mark.parametrize(("answer", "keep_alive", "wanted"), [
    ((202, [(b"content-length", b"0")], b""), True,
     b"HTTP/1.1 202 Accepted\r\ndate: D\r\ncontent-length: 0\r\n\r\n"),
    ((202, [(b"content-length", b"0")], b""), False,
     b"HTTP/1.1 202 Accepted\r\ndate: D\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
    ((404, [(b"content-type", b"application/json"), (b"content-length", b"2")], b"{}"), True,
     b"HTTP/1.1 404 Not Found\r\ndate: D\r\ncontent-type: application/json\r\n"
     b"content-length: 2\r\n\r\n{}"),
    ((503, [(b"connection", b"Close"), (b"content-length", b"0")], b""), False,
     b"HTTP/1.1 503 Service Unavailable\r\ndate: D\r\nconnection: Close\r\ncontent-length: 0\r\n\r\n"),
])
def test_encode_writes_what_uvicorn_writes(answer: Any, keep_alive: bool, wanted: bytes) -> None:
    assert encode(answer, [(b"date", b"D")], keep_alive) == wanted
