"""A tiny synchronous client for the Ripple API server, on stdlib `urllib.request` and
`http.client` (imported at the first request: every command builds a `Client`, and not every
command sends one).

Called by every `ripple` client command (`ripple.cli.commands.*`). It speaks the
Kubernetes REST shape: discovery at `/apis`, collections and items under
`/api/v1/...` (core group) or `/apis/{group}/{version}/...`, and Status JSON errors.
Transport failures and error Statuses are translated here, at the boundary, into
`ApiError` and `Unreachable`, both in Ripple's error tree, so commands only print them.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ripple import errors

if TYPE_CHECKING:
    import http.client
    import urllib.request

DEFAULT_SERVER = "http://127.0.0.1:8080"


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """The API is usually on localhost: an inherited http_proxy must not swallow it. Built
    at the first request: `ripple --help` and the like never load the HTTP stack."""
    import urllib.request

    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ApiError(errors.RippleError):
    """The server answered with an error Status; `str()` is the one line users see."""

    def __init__(
        self, code: int, message: str, *, reason: str = "", retry_after: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = code
        self.code = code
        self.reason = reason
        self.retry_after = retry_after


class Unreachable(errors.RippleError):
    """The API server (or an ingress) did not answer at all."""


def format_status(status: Any, code: int, fallback: str = "") -> str:
    """One line from a Status object: its message, then each cause not already in it."""
    if not isinstance(status, dict):
        return fallback.strip() or f"the server answered HTTP {code}"
    message = str(status.get("message") or status.get("reason") or fallback or f"HTTP {code}")
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    for cause in causes if isinstance(causes, list) else []:
        if not isinstance(cause, dict):
            continue
        field_path, problem = str(cause.get("field") or ""), str(cause.get("message") or "")
        text = str(errors.FieldError(field_path, problem))
        if text and text not in message:
            message += f"; {text}"
    return message


def error_from(code: int, body: bytes, headers: dict[str, str]) -> ApiError:
    """The ApiError for a non-2xx answer, whether or not its body is a Status."""
    text = body.decode("utf-8", "replace")
    try:
        status = json.loads(text)
    except ValueError:
        status = None
    reason = str(status.get("reason", "")) if isinstance(status, dict) else ""
    message = format_status(status, code, text[:300])
    retry_after = headers.get("retry-after")
    if retry_after:
        message += f" (retry after {retry_after}s)"
    return ApiError(code, message, reason=reason, retry_after=retry_after)


@dataclass(frozen=True)
class ResourceType:
    """One discovered kind, and the URLs it lives at."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...] = ()
    namespaced: bool = True

    @classmethod
    def from_discovery(cls, entry: dict[str, Any]) -> ResourceType:
        return cls(
            group=entry.get("group", ""),
            version=entry["version"],
            kind=entry["kind"],
            plural=entry["plural"],
            singular=entry.get("singular") or entry["kind"].lower(),
            short_names=tuple(entry.get("shortNames") or ()),
            namespaced=entry.get("namespaced", True),
        )

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """kubectl's name for the kind in messages: `broker.eventing.knative.dev`, `secret`."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    def path(self, namespace: str | None, name: str | None = None) -> str:
        """The collection (or item) URL path; namespace None means all namespaces."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base

    def matches(self, word: str) -> bool:
        """True for the singular, plural, Kind or a short name, or `plural.group`, any case."""
        word = word.lower()
        short = (s.lower() for s in self.short_names)
        names = {self.singular, self.plural, self.kind.lower(), *short}
        if word in names:
            return True
        name, _, group = word.partition(".")
        return bool(group) and group == self.group and name in names


def find_type(types: list[ResourceType], word: str) -> ResourceType:
    """The kind a user typed (`broker`, `triggers`, `ksvc`...); an error lists the known ones."""
    for rtype in types:
        if rtype.matches(word):
            return rtype
    known = ", ".join(sorted({t.singular for t in types})) or "none (discovery is empty)"
    raise errors.Invalid(f'unknown kind "{word}"; known kinds: {known}')


def type_of(types: list[ResourceType], api_version: str, kind: str) -> ResourceType:
    """The kind a manifest declares, matched exactly on apiVersion and Kind, like kubectl."""
    for rtype in types:
        if rtype.api_version == api_version and rtype.kind == kind:
            return rtype
    raise errors.Invalid(f'no matches for kind "{kind}" in version "{api_version}"')


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Client:
    """Talks to one API server; `server` is its base URL."""

    server: str = DEFAULT_SERVER
    timeout: float = 30.0
    token: str | None = field(default=None, repr=False)
    """The API's bearer token (`ripple.cli.credentials.token_for`), sent on every request
    to `server` that sets no Authorization of its own; never to another host."""
    _types: list[ResourceType] | None = field(default=None, repr=False)
    _connection: http.client.HTTPConnection | None = field(default=None, repr=False)
    """One kept-alive connection to the API: `apply -f` of a thousand objects is a
    thousand requests, and a connection each cost the server as much as the request."""

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.server.rstrip("/") + path_or_url

    def send(
        self,
        method: str,
        path_or_url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One HTTP exchange; any status comes back, only transport failures raise."""
        url = self.url(path_or_url)
        headers = self._authorized(url, headers or {})
        if url.startswith(self.server.rstrip("/") + "/") and self.server.startswith("http://"):
            return self._send_kept_alive(method, url, body, headers)
        import urllib.error
        import urllib.request

        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with _opener().open(request, timeout=self.timeout) as answer:
                return Response(answer.status, _lower(answer.headers), answer.read())
        except urllib.error.HTTPError as failure:
            with failure:
                return Response(failure.code, _lower(failure.headers), failure.read())
        except (urllib.error.URLError, OSError) as failure:
            raise self._unreachable(url, failure) from None

    def _authorized(self, url: str, headers: dict[str, str]) -> dict[str, str]:
        if self.token is None or any(k.lower() == "authorization" for k in headers):
            return headers
        if not url.startswith(self.server.rstrip("/") + "/"):
            return headers  # another host (a sink, an ingress elsewhere) never sees the token
        return {**headers, "Authorization": f"Bearer {self.token}"}

    def _send_kept_alive(self, method: str, url: str, body: bytes | None,
                         headers: dict[str, str]) -> Response:
        import http.client

        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    parts.hostname or "127.0.0.1", parts.port or 80, timeout=self.timeout)
            try:
                self._connection.request(method, target, body=body, headers=headers)
                answer = self._connection.getresponse()
                return Response(answer.status, _lower(answer.headers), answer.read())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as failure:
                # The server closed a kept-alive connection while it was idle: once more on a
                # new one (a request it closed on was never read, so sending it again is safe).
                self._connection.close()
                self._connection = None
                if attempt == 2:
                    raise self._unreachable(url, failure) from None
            except (OSError, http.client.HTTPException) as failure:
                self._connection.close()
                self._connection = None
                raise self._unreachable(url, failure) from None
        raise AssertionError("unreachable")

    def unauthorized(self) -> ApiError:
        """The one line for a 401 from the API: what to give, and where it is."""
        if self.token is None:
            hint = ("no token for this server: give it with --token or RIPPLE_TOKEN (it is in "
                    "<data-dir>/token of that `ripple up`)")
        else:
            hint = "the token was refused: give the one in <data-dir>/token of that `ripple up`"
        return ApiError(401, f"the Ripple API at {self.server} needs its token; {hint}",
                        reason="Unauthorized")

    def _unreachable(self, url: str, failure: Exception) -> Unreachable:
        reason = getattr(failure, "reason", failure)
        if url.startswith(self.server.rstrip("/")):
            where = ("is 'ripple up' running?" if isinstance(reason, ConnectionRefusedError)
                     else str(reason))
            return Unreachable(
                f"cannot reach the Ripple API at {self.server} ({where}); if it runs elsewhere, "
                f"point the CLI at it with --server URL or RIPPLE_SERVER=URL"
            )
        return Unreachable(f"cannot reach {url}: {reason}")

    def call(self, method: str, path: str, obj: dict[str, Any] | None = None) -> dict[str, Any]:
        """A JSON request to the API; a non-2xx answer raises ApiError."""
        body = json.dumps(obj).encode() if obj is not None else None
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        answer = self.send(method, path, body, headers)
        if answer.status == 401:
            raise self.unauthorized()
        if not 200 <= answer.status < 300:
            raise error_from(answer.status, answer.body, answer.headers)
        if not answer.body.strip():
            return {}
        result = json.loads(answer.body)
        return result if isinstance(result, dict) else {"items": result}

    def stream_lines(self, path: str, body: dict[str, Any] | None = None) -> Iterator[bytes]:
        """Lines of a long answer (`/tail/...`; a replay's progress when POSTing `body`), as
        they arrive."""
        import urllib.error
        import urllib.request

        url = self.url(path)
        headers = self._authorized(url, {"Accept": "application/x-ndjson"})
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            # No read timeout: a quiet broker sends nothing for as long as it likes.
            answer = _opener().open(request, timeout=None)
        except urllib.error.HTTPError as failure:
            with failure:
                if failure.code == 401 and url.startswith(self.server.rstrip("/") + "/"):
                    raise self.unauthorized() from None
                raise error_from(failure.code, failure.read(), _lower(failure.headers)) from None
        except (urllib.error.URLError, OSError) as failure:
            raise self._unreachable(url, failure) from None
        with answer:
            try:
                yield from answer
            except (TimeoutError, ConnectionError) as failure:
                raise Unreachable(f"the stream from {url} broke: {failure}") from None

    def resource_types(self) -> list[ResourceType]:
        """Discovery, fetched once per process."""
        if self._types is None:
            listing = self.call("GET", "/apis")
            self._types = [ResourceType.from_discovery(e) for e in listing.get("resources", [])]
        return self._types

    def find_type(self, word: str) -> ResourceType:
        return find_type(self.resource_types(), word)

    def type_of(self, api_version: str, kind: str) -> ResourceType:
        return type_of(self.resource_types(), api_version, kind)


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()} if headers is not None else {}
