"""`channels.sending`'s pure parts: a URL as a destination, the request's headers as
bytes, the answer's headers as text."""

from __future__ import annotations

import base64

import pytest

from channels.sending import Destination, destination, request_headers, response_headers


@pytest.mark.parametrize(("url", "expected"), [
    ("http://sink.default.svc/", Destination("sink.default.svc:80", "sink.default.svc", "/", False)),
    ("http://sink", Destination("sink:80", "sink", "/", False)),
    ("http://127.0.0.1:8080/a/b?x=1&y=2",
     Destination("127.0.0.1:8080", "127.0.0.1:8080", "/a/b?x=1&y=2", False)),
    # the default port stays out of the Host header, as aiohttp and Go send it
    ("http://h:80/p", Destination("h:80", "h", "/p", False)),
    ("https://h/p", Destination("h:443", "h", "/p", True)),
    ("https://h:443/p", Destination("h:443", "h", "/p", True)),
    ("https://h:8443/p", Destination("h:8443", "h:8443", "/p", True)),
    ("HTTP://Sink.Example/", Destination("sink.example:80", "sink.example", "/", False)),
    ("http://[::1]:9000/x", Destination("::1:9000", "[::1]:9000", "/x", False)),
    ("http://[::1]/x", Destination("::1:80", "[::1]", "/x", False)),
    # the fragment is never sent; an encoded path is kept as it is
    ("http://h/a%20b#frag", Destination("h:80", "h", "/a%20b", False)),
    # what may not appear raw in a request line is percent-encoded, as yarl does
    ("http://h/a b/é?q=ü", Destination("h:80", "h", "/a%20b/%C3%A9?q=%C3%BC", False)),
    ("http://bücher.example/", Destination("xn--bcher-kva.example:80", "xn--bcher-kva.example", "/",
                                           False)),
    ("http://user:p%40ss@h/", Destination(
        "h:80", "h", "/", False, "Basic " + base64.b64encode(b"user:p@ss").decode())),
    ("http://token@h/", Destination("h:80", "h", "/", False, "Basic " + base64.b64encode(b"token:").decode())),
])
def test_destination(url: str, expected: Destination) -> None:
    assert destination(url) == expected


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://h/", "unsupported URL scheme 'ftp'"),
    ("h/path", "unsupported URL scheme ''"),
    ("http:///path", "the URL has no host"),
    ("http://h:99999/", "out of range"),
    ("http://h:port/", "Port could not be cast"),
])
def test_a_destination_without_a_way_there_is_a_value_error(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        destination(url)


@pytest.mark.parametrize(("event", "extra", "authorization", "expected"), [
    ([("ce-id", "1"), ("content-type", "text/plain")], None, None,
     [(b"ce-id", b"1"), (b"content-type", b"text/plain")]),
    ([("ce-id", "1")], {"Kn-Namespace": "default", "Prefer": "reply"}, None,
     [(b"ce-id", b"1"), (b"Kn-Namespace", b"default"), (b"Prefer", b"reply")]),
    # the delivery's headers override the event's of the same spelling
    ([("ce-id", "1"), ("traceparent", "a")], {"traceparent": "b"}, None,
     [(b"ce-id", b"1"), (b"traceparent", b"b")]),
    # URL credentials, unless the delivery sends its own Authorization (a Bearer token)
    ([("ce-id", "1")], None, "Basic dTo=", [(b"ce-id", b"1"), (b"Authorization", b"Basic dTo=")]),
    ([("ce-id", "1")], {"authorization": "Bearer t"}, "Basic dTo=",
     [(b"ce-id", b"1"), (b"authorization", b"Bearer t")]),
    # UTF-8, as aiohttp encoded them
    ([("content-type", "text/plain; name=é")], None, None,
     [(b"content-type", "text/plain; name=é".encode())]),
])
def test_request_headers(event, extra, authorization, expected) -> None:
    assert request_headers(event, extra, authorization) == expected


@pytest.mark.parametrize(("event", "extra"), [
    ([("content-type", "text/plain\r\nx-injected: 1")], None),
    ([("ce-id", "1")], {"X-Pass": "a\nb"}),
    ([("ce-id", "1")], {"X-Bad\r\nName": "v"}),
    ([("ce-id", "1\x00")], None),
])
def test_a_line_break_in_a_header_is_refused(event, extra) -> None:
    with pytest.raises(ValueError, match="a CR, LF or NUL character is not allowed"):
        request_headers(event, extra)


@pytest.mark.parametrize(("raw", "expected"), [
    ([(b"Content-Type", b"application/json"), (b"Ce-Id", b"r1")],
     {"content-type": "application/json", "ce-id": "r1"}),
    ([(b"Retry-After", b"3")], {"retry-after": "3"}),
    # the last of a repeated header
    ([(b"X-A", b"1"), (b"x-a", b"2")], {"x-a": "2"}),
    ([(b"ce-subject", "é".encode())], {"ce-subject": "é"}),
    ([(b"ce-subject", b"\xe9")], {"ce-subject": "é"}),  # not UTF-8: Latin-1
    ([], {}),
])
def test_response_headers(raw, expected) -> None:
    assert response_headers(raw) == expected
