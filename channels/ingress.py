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


class Ingress:
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        namespace = name = event_type = ""
        try:
            method = scope["method"]
            if method == "OPTIONS":
                await http.respond(send, 200, b"", list(_OPTIONS_HEADERS))
                return
            if method != "POST":
                raise errors.MethodNotAllowed(f"method {method} is not allowed; use POST")
            namespace, name = parse_address(scope["path"], self.prefix, self.kind)
            stream = self.resolve(namespace, name)
            if stream is None:
                raise errors.NotFound(f"{self.kind} {namespace}/{name} not found")
            if self.tokens is not None and self.tokens.required:  # one dict lookup, if any
                accepted = self.tokens.required.get((namespace, name))
                if accepted is not None and not bearer.authorized(scope, accepted):
                    await self._refuse(send, namespace, name)
                    return
            headers = http.request_headers(scope)
            body = await http.read_body(headers, receive, self.settings.max_event_bytes)
            events = ce.from_http(headers, body)
            passed = records.pass_through(headers)
            entries = []
            for event in events:
                event = self.prepare(event, headers)
                event_type = str(event.type)
                entries.append(ce.to_record(event, passed))
            if len(entries) == 1:
                await self.appender.append(stream, entries[0])
            elif entries:  # a batch: every append joins the same pipeline, in order
                await asyncio.gather(*(self.appender.append(stream, r) for r in entries))
            metrics.ingress_children.child(namespace, *self._named(name), event_type, "202").inc(
                len(entries) or 1)
            await http.respond(send, 202)
        except errors.RippleError as exc:
            await self._error(send, exc, scope["path"], namespace, name, event_type)
        except Exception as exc:
            log.exception("ingress failed")
            await self._error(send, exc, scope["path"], namespace, name, event_type)

    async def _refuse(self, send: Send, namespace: str, name: str) -> None:
        await bearer.refuse(send, f"{self.kind} {namespace}/{name}", (
            f"{self.kind} {namespace}/{name} requires Authorization: Bearer <token>, a token of "
            f"the Secret its annotation {authorizing.ANNOTATION} names"))
        metrics.ingress_children.child(namespace, *self._named(name), "", "401").inc()

    async def _error(self, send: Send, exc: BaseException, path: str, namespace: str, name: str,
                     event_type: str) -> None:
        status = await http.respond_error(send, exc)
        if not namespace and isinstance(exc, errors.MethodNotAllowed):
            try:  # the method is checked first, as upstream does; count it for its broker
                namespace, name = parse_address(path, self.prefix, self.kind)
            except errors.RippleError:
                return
        # Only for an address that names a resource: the path is the caller's, and a child
        # per made-up path would grow the registry (and the process) without bound.
        if namespace and self.resolve(namespace, name) is not None:
            metrics.ingress_children.child(namespace, *self._named(name), event_type, str(status)).inc()

    def _named(self, name: str) -> tuple[str, str]:
        """(kn_broker_name, kn_channel_name): a channel is not named as a broker."""
        return (name, "") if self.kind == "broker" else ("", name)


def parse_address(path: str, prefix: str, kind: str) -> tuple[str, str]:
    """(namespace, name) of an ingress path, or the error Knative answers for it."""
    rest = path[len(prefix):] if prefix and path.startswith(prefix) else path
    if kind == "broker" and rest == "/":
        raise errors.NotFound(f"no {kind} at {path}; the address is /<namespace>/<name>")
    parts = rest.removesuffix("/").split("/")
    if len(parts) != 3 or parts[0]:
        raise errors.InvalidInput(f"malformed {kind} path {path}; the address is /<namespace>/<name>")
    return parts[1], parts[2]
