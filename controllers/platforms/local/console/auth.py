"""The console behind the API token (pure).

A browser cannot send `Authorization: Bearer` when it follows a link, so the console takes
the token once in the URL, `/console/?token=…`, and answers with a redirect to the same
page without it and a cookie holding it: `HttpOnly` (no script reads it), `SameSite=Strict`
(no other site's page sends it, so no cross-site request forgery), `Path=/` (the console's
own `fetch`es to the operations API under /apis carry it too). The front's token check
(`routing`) takes the token from the header, else from this cookie (`presented`), else, on
a /console path, from the query (`in_query`).
"""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

COOKIE = "ripple-token"
QUERY = "token"


def presented(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The token of the console's cookie, if the request has one."""
    for name, value in headers:
        if name.lower() == b"cookie":
            try:
                jar = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                continue
            if COOKIE in jar and jar[COOKIE].value:
                return jar[COOKIE].value.encode()
    return None


def in_query(query_string: bytes) -> bytes | None:
    """The token of a console URL's `?token=`, which the front checks like a header's (on
    /console paths only: a token in any other URL would end up in logs and histories)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    token = next((v for k, v in pairs if k == QUERY), None)
    return token.encode("latin-1") if token else None


def exchange(query_string: bytes) -> tuple[str, str] | None:
    """For a query with `token=`: (the query without it, the Set-Cookie value); else None."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    token = next((v for k, v in pairs if k == QUERY), None)
    if not token:
        return None
    rest = urlencode([(k, v) for k, v in pairs if k != QUERY])
    cookie = SimpleCookie()
    cookie[COOKIE] = token
    morsel = cookie[COOKIE]
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    morsel["path"] = "/"
    return rest, morsel.OutputString()
