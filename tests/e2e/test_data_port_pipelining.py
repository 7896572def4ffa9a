"""`ripple up`'s ingress fast path (`channels.fastpath`) on its one data-plane port: raw
HTTP/1.1 on one keep-alive connection, pipelined, Content-Length and chunked bodies, 413,
404/400/405, OPTIONS; the control API, /healthz and /metrics answered on the same port,
and every 202 in the broker's log (the metric counts each accepted event)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from tests.support.mesh import Mesh

pytestmark = pytest.mark.e2e

BROKERS = "/apis/eventing.knative.dev/v1/namespaces/default/brokers"
CE = (b"ce-specversion: 1.0\r\nce-source: /s\r\nce-type: fast.t\r\n"
      b"content-type: application/json\r\n")


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    m = Mesh(tmp_path_factory.mktemp("fastpath")).start()
    try:
        m.apply("apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: fast}\n")
        m.wait_ready(f"{BROKERS}/fast")
        yield m
    finally:
        m.stop()


def post(path: bytes, i: int, body: bytes = b'{"a":1}') -> bytes:
    return (b"POST " + path + b" HTTP/1.1\r\nhost: x\r\nce-id: %d\r\n" % i + CE
            + b"content-length: %d\r\n\r\n" % len(body) + body)


def chunked(path: bytes, i: int, chunks: list[bytes]) -> bytes:
    out = b"POST " + path + b" HTTP/1.1\r\nhost: x\r\nce-id: %d\r\n" % i + CE + b"transfer-encoding: chunked\r\n\r\n"
    return out + b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"


def exchange(mesh: Mesh, data: bytes) -> list[int]:
    """`data` on one connection, closed by its last request; the statuses answered."""
    with socket.create_connection(("127.0.0.1", mesh.port), timeout=30) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return [int(x) for x in re.findall(rb"HTTP/1.1 ([0-9]+) ", out)]


def test_pipelined_keep_alive_requests_are_answered_in_order(mesh: Mesh) -> None:
    before = mesh.sample("kn_eventing_ingress_events_total", kn_broker_name="fast",
                         http_response_status_code="202")
    token = mesh.token.encode()
    data = (post(b"/default/fast", 1)
            + chunked(b"/default/fast", 2, [b'{"a":', b"2}"])
            + post(b"/default/nope", 3)
            + post(b"/a/b/c", 4)
            + b"GET /default/fast HTTP/1.1\r\nhost: x\r\n\r\n"
            + b"OPTIONS /default/fast HTTP/1.1\r\nhost: x\r\n\r\n"
            + post(b"/default/fast", 5, b"x" * (5 * 1024 * 1024))
            + b"GET " + BROKERS.encode() + b"/fast HTTP/1.1\r\nhost: x\r\nauthorization: Bearer "
            + token + b"\r\n\r\n"
            + b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"
            + post(b"/default/fast?q=1", 6)[:-len(b'{"a":1}')].replace(
                b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n") + b'{"a":1}')
    assert exchange(mesh, data) == [202, 202, 404, 400, 405, 200, 413, 200, 200, 202]
    after = mesh.sample("kn_eventing_ingress_events_total", kn_broker_name="fast",
                        http_response_status_code="202")
    assert after - before == 3
    assert 'kn_broker_name="fast"' in mesh.metrics()
