"""serving.routing's pure helpers: the path and headers a replica sees."""

from __future__ import annotations

import pytest

from serving import routing
from serving.traffic import Address, RouteKey

FOO = RouteKey("ns", "foo")


@pytest.mark.parametrize("raw, query, address, want", [
    (b"/serving/ns/foo", b"", Address(FOO, None, "/"), "/"),
    (b"/serving/ns/foo/", b"", Address(FOO, None, "/"), "/"),
    (b"/serving/ns/foo/a%2Fb", b"x=1", Address(FOO, None, "/a/b"), "/a%2Fb?x=1"),
    (b"/serving/ns/foo/@t/x", b"", Address(FOO, "t", "/x"), "/x"),
    (b"/serving/ns/foo/@t", b"q", Address(FOO, "t", "/"), "/?q"),
    (b"/any/path", b"a=b", Address(FOO, None, "/any/path"), "/any/path?a=b"),  # by Host
])
def test_forward_path(raw: bytes, query: bytes, address: Address, want: str) -> None:
    scope = {"path": raw.decode(), "raw_path": raw, "query_string": query}
    assert routing._forward_path(scope, address) == want


@pytest.mark.parametrize("headers, client, want", [
    ([(b"host", b"h"), (b"x-a", b"1")], ("10.0.0.1", 5),
     [(b"x-a", b"1"), (b"x-forwarded-for", b"10.0.0.1"), (b"k-original-host", b"h")]),
    ([(b"x-forwarded-for", b"1.1.1.1"), (b"content-length", b"3"), (b"expect", b"100-continue")],
     ("10.0.0.1", 5), [(b"x-forwarded-for", b"1.1.1.1, 10.0.0.1")]),
    ([(b"connection", b"keep-alive, X-Secret"), (b"x-secret", b"s"), (b"te", b"trailers"),
      (b"transfer-encoding", b"chunked"), (b"upgrade", b"h2c"), (b"keep-alive", b"5"),
      (b"x-b", b"2")], None, [(b"x-b", b"2")]),
])
def test_forward_headers(headers: list, client: tuple | None, want: list) -> None:
    assert routing._forward_headers({"headers": headers, "client": client}) == want


def test_static_endpoints() -> None:
    endpoints = routing.StaticEndpoints()
    key = routing.RevisionKey("ns", "foo-00001")
    assert endpoints.settings(key) is None and endpoints.ready(key) == ()
    endpoints.set_revision(key, routing.Settings(container_concurrency=2))
    endpoints.set_ready(key, ["127.0.0.1:1"])
    assert endpoints.settings(key) == routing.Settings(2, routing.DEFAULT_TIMEOUT)
    assert list(endpoints.ready(key)) == ["127.0.0.1:1"]
    endpoints.remove_revision(key)
    assert endpoints.settings(key) is None

