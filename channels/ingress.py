"""The CloudEvents ingress, shared by brokers and channels: raw ASGI on the hot path.

`Ingress` answers Knative's data-plane contract for one family of addresses: it resolves
the request path to a log through `resolve`, decodes binary, structured or batch events,
lets the owner `prepare` each one (the broker stamps TTL and arrival time), appends them
through the coalescing `Appender`, and answers 202 only once every event of the request is
in the log. Errors become statuses in one place (`ripple.errors.http_status`):
400 invalid event, 404 unknown address, 405 not POST, 413 too large, 503 + Retry-After
when the store cannot take the write. The producer's pass-through headers
(`records.pass_through`) are stored with each event, for every delivery attempt.

Paths are checked as Knative checks them, after the method: the broker ingress answers
`/` with 404 and any path that is not `/<namespace>/<name>` (one trailing slash allowed)
with 400 (`pkg/broker/ingress/ingress_handler.go`); a channel path is 400 whenever it is
not `/<namespace>/<name>`, `/` included (`pkg/channel/references.go ParseChannelFromPath`).
An empty namespace or name (`///`, which is `/%2F/` unquoted, or `/ns//`) is a 400 as well,
whose message names the rule, where upstream looks the empty name up and answers 404.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from channels import http
from channels.appending import Appender
from channels import authorizing
from channels.authorizing import IngressTokens
from ripple import bearer
from ripple import cloudevents as ce
from ripple import errors, metrics
from ripple.cloudevents import records
from ripple.settings import IngressSettings

log = logging.getLogger(__name__)

Scope = http.Scope
Receive = http.Receive
Send = http.Send
Resolve = Callable[[str, str], str | None]
"""(namespace, name) -> the log's stream key, or None when there is no such resource."""
Prepare = Callable[[ce.CloudEvent, Mapping[str, str]], ce.CloudEvent]

_OPTIONS_HEADERS = [
    (b"allow", b"POST, OPTIONS"),
    (b"webhook-allowed-origin", b"*"),
    (b"webhook-allowed-rate", b"*"),
]


def _identity(event: ce.CloudEvent, headers: Mapping[str, str]) -> ce.CloudEvent:
    return event


class Request:
    """One request to the ingress as far as it is known: its address once resolved, its
    headers once read, and the bytes they count against the size limit."""

    __slots__ = ("path", "namespace", "name", "stream", "headers", "size", "event_type")

    def __init__(self, path: str) -> None:
        self.path = path
        self.namespace = self.name = self.stream = self.event_type = ""
        self.headers: dict[str, str] = {}
        self.size = 0


class Ingress:
    """The ASGI app, and the core it shares with the fast path (`channels.fastpath`, which
    serves `POST` without ASGI): `open` (method, address, token, header size), then the body,
    `decode`, the appends, then `accepted`, or `failed` for an error at any step. The two
    servers differ only in how they read the body, await the appends and write the answer."""

    def __init__(
        self,
        resolve: Resolve,
        appender: Appender,
        settings: IngressSettings,
        *,
        prepare: Prepare = _identity,
        kind: str = "broker",
        prefix: str = "",
        tokens: IngressTokens | None = None,
    ) -> None:
        self.resolve, self.appender, self.settings = resolve, appender, settings
        self.prepare, self.kind, self.prefix = prepare, kind, prefix
        self.tokens = tokens
        """`ripple.dev/ingress-auth`: the tokens each annotated resource requires."""
        self.limit = settings.max_event_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            await http.respond(send, 200, b"", list(_OPTIONS_HEADERS))
            return
        request = Request(scope["path"])
        try:
            refused = self.open(request, scope["method"], scope["headers"])
            if refused is not None:
                await http.send_answer(send, refused)
                return
            body = await http.read_body(request.headers, receive, self.limit)
            entries = self.decode(request, body)
            if len(entries) == 1:
                await self.appender.append(request.stream, entries[0])
            elif entries:  # a batch: every append joins the same pipeline, in order
                await asyncio.gather(*(self.appender.append(request.stream, r) for r in entries))
            answer = self.accepted(request, len(entries))
        except Exception as exc:
            answer = self.failed(request, exc)
        await http.send_answer(send, answer)

    def open(self, request: Request, method: str, raw_headers: http.Headers) -> http.Answer | None:
        """Check everything that precedes the body: the method, the address, the token of an
        annotated resource, the headers' size. Raises the error to answer, or returns the
        401 to answer (counted), or None: read the body (`request.size` bytes are counted)."""
        if method != "POST":
            raise errors.MethodNotAllowed(f"method {method} is not allowed; use POST")
        namespace, name = parse_address(request.path, self.prefix, self.kind)
        stream = self.resolve(namespace, name)
        if stream is None:
            raise errors.NotFound(f"{self.kind} {namespace}/{name} not found")
        request.namespace, request.name, request.stream = namespace, name, stream
        if self.tokens is not None and self.tokens.required:  # one dict lookup, if any
            accepted = self.tokens.required.get((namespace, name))
            if accepted is not None and not bearer.allowed(bearer.presented(raw_headers), accepted):
                return self._refusal(namespace, name)
        request.headers = headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                                     for k, v in raw_headers}
        request.size = http.headers_size(headers, self.limit)
        return None

    def decode(self, request: Request, body: bytes) -> list[records.Fields]:
        """The request's events, each prepared by the owner, as log entries."""
        headers = request.headers
        events = ce.from_http(headers, body)
        passed = records.pass_through(headers)
        entries = []
        for event in events:
            event = self.prepare(event, headers)
            request.event_type = str(event.type)
            entries.append(ce.to_record(event, passed))
        return entries

    def accepted(self, request: Request, count: int) -> http.Answer:
        """Every entry is in the log: count them, answer 202."""
        metrics.ingress_children.child(request.namespace, *self._named(request.name),
                                       request.event_type, "202").inc(count or 1)
        return _ACCEPTED

    def failed(self, request: Request, exc: BaseException) -> http.Answer:
        """The answer to an error at any step, counted for the resource it names."""
        if not isinstance(exc, errors.RippleError):
            log.error("ingress failed", exc_info=exc)
        answer = http.error_answer(exc)
        namespace, name = request.namespace, request.name
        if not namespace and isinstance(exc, errors.MethodNotAllowed):
            try:  # the method is checked first, as upstream does; count it for its broker
                namespace, name = parse_address(request.path, self.prefix, self.kind)
            except errors.RippleError:
                return answer
        # Only for an address that names a resource: the path is the caller's, and a child
        # per made-up path would grow the registry (and the process) without bound.
        if namespace and self.resolve(namespace, name) is not None:
            metrics.ingress_children.child(namespace, *self._named(name), request.event_type,
                                           str(answer[0])).inc()
        return answer

    def _refusal(self, namespace: str, name: str) -> http.Answer:
        metrics.ingress_children.child(namespace, *self._named(name), "", "401").inc()
        return bearer.refusal(f"{self.kind} {namespace}/{name}", (
            f"{self.kind} {namespace}/{name} requires Authorization: Bearer <token>, a token of "
            f"the Secret its annotation {authorizing.ANNOTATION} names"))

    def _named(self, name: str) -> tuple[str, str]:
        """(kn_broker_name, kn_channel_name): a channel is not named as a broker."""
        return (name, "") if self.kind == "broker" else ("", name)


_ACCEPTED = http.answer(202)


def parse_address(path: str, prefix: str, kind: str) -> tuple[str, str]:
    """(namespace, name) of an ingress path, or the error Knative answers for it."""
    rest = path[len(prefix):] if prefix and path.startswith(prefix) else path
    if kind == "broker" and rest == "/":
        raise errors.NotFound(f"no {kind} at {path}; the address is /<namespace>/<name>")
    parts = rest.removesuffix("/").split("/")
    if len(parts) != 3 or parts[0]:
        raise errors.InvalidInput(f"malformed {kind} path {path}; the address is /<namespace>/<name>")
    if not parts[1] or not parts[2]:  # upstream looks the empty name up, and answers 404
        raise errors.InvalidInput(f"malformed {kind} path {path}: the namespace and the name must "
                                  "not be empty; the address is /<namespace>/<name>")
    return parts[1], parts[2]
