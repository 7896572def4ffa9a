"""The webhook receiver of every GitHubSource and GitLabSource: raw ASGI at
`/webhooks/github/<namespace>/<name>` and `/webhooks/gitlab/<namespace>/<name>`.

The reconciler publishes this URL in the source's `status.webhookUrl`; the user pastes it
into GitHub or GitLab, or Ripple registers it (`ripple.dev/register-webhook: "true"`).
For each request, in this order:
- 405 unless POST, 404 for an unknown source, 413 over the size limit;
- 503 + Retry-After while the source's Secret (`secretToken`) cannot be read;
- 401 for a missing or wrong signature (GitHub `X-Hub-Signature-256`, GitLab
  `X-Gitlab-Token`), compared in constant time; nothing is published;
- 200 for GitHub's `ping` and for events not in `spec.eventTypes`, published nowhere;
- 400 for a delivery that cannot become a CloudEvent, naming the header or field;
- 202 once the event is in the source's durable delivery queue, or 200 when its delivery
  id was published before (a redelivery). From the queue the delivery engine sends it to
  the sink with retries.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from channels import http
from ripple import cloudevents as ce
from ripple import errors, keys, metrics
from ripple.settings import IngressSettings
from sources.publishing import Publisher
from sources.webhooks import github, gitlab, signatures

log = logging.getLogger(__name__)

PREFIX = "/webhooks/"
PROVIDERS = {"github": "GitHubSource", "gitlab": "GitLabSource"}


@dataclass(frozen=True)
class Hook:
    """One GitHubSource or GitLabSource as its receiver needs it; built by the plane."""

    kind: str  # GitHubSource | GitLabSource
    namespace: str
    name: str
    origin: str  # spec.ownerAndRepository (GitHub) or spec.projectUrl (GitLab)
    event_types: frozenset[str]
    secret: bytes | None  # None while the Secret cannot be read
    stream: str
    extensions: Mapping[str, str] = field(default_factory=dict)


Lookup = Callable[[str, str, str], "Hook | None"]
"""(kind, namespace, name) -> the hook, or None when there is no such source."""


class WebhookReceiver:
    def __init__(self, lookup: Lookup, publisher: Publisher, settings: IngressSettings, *,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.lookup, self.publisher, self.settings = lookup, publisher, settings
        self.new_id, self.now = new_id, now

    async def __call__(self, scope: http.Scope, receive: http.Receive, send: http.Send) -> None:
        try:
            status, message = await self._handle(scope, receive)
            await http.respond_json(send, status, {"code": status, "message": message})
        except errors.RippleError as exc:
            await http.respond_error(send, exc, allow=b"POST")
        except Exception as exc:
            log.exception("webhook receiver failed")
            await http.respond_error(send, exc, allow=b"POST")

    async def _handle(self, scope: http.Scope, receive: http.Receive) -> tuple[int, str]:
        kind, namespace, name = _address(scope["path"])
        if scope["method"] != "POST":
            raise errors.MethodNotAllowed(f"method {scope['method']} is not allowed; use POST")
        hook = self.lookup(kind, namespace, name)
        if hook is None:
            raise errors.NotFound(f"{kind} {namespace}/{name} not found")
        headers = http.request_headers(scope)
        body = await http.read_body(headers, receive, self.settings.max_event_bytes)
        if hook.secret is None:
            raise errors.TemporaryError(
                f"{kind} {namespace}/{name}: its secretToken Secret cannot be read yet", delay=5.0)
        event = self._event(hook, headers, body)
        if isinstance(event, str):
            return 200, event
        # ceOverrides win over what the delivery carries, as in Knative; `time` is arrival
        attributes = {"time": self.now().isoformat().replace("+00:00", "Z"), **event.attributes,
                      **hook.extensions}
        event = ce.CloudEvent(attributes, event.data)
        marker = keys.webhook_delivery(kind, namespace, name, str(event.id))
        if not await self.publisher.publish_once(hook.stream, marker, event):
            return 200, f"delivery {event.id} was published before; not published again"
        metrics.source_events.labels(kn_namespace_name=namespace, kn_source_kind=kind,
                                     kn_source_name=name).inc()
        return 202, f"published {event.type} {event.id}"

    def _event(self, hook: Hook, headers: Mapping[str, str], body: bytes) -> ce.CloudEvent | str:
        """The event to publish, or the reason for answering 200 without publishing."""
        if hook.kind == "GitHubSource":
            signatures.verify_github(hook.secret or b"", body, headers.get("x-hub-signature-256"))
            event_name = github.event_name(headers)
            if event_name not in hook.event_types:
                return "pong" if event_name == "ping" else _ignored(event_name)
            return github.to_event(headers, body, hook.origin)
        signatures.verify_gitlab(hook.secret or b"", headers.get("x-gitlab-token"))
        option = gitlab.event_type_option(headers.get("x-gitlab-event", ""))
        if option not in hook.event_types:
            return _ignored(option)
        return gitlab.to_event(headers, body, hook.origin, new_id=self.new_id)


def _ignored(event_type: str) -> str:
    return f"{event_type} is not in spec.eventTypes; not published"


def _address(path: str) -> tuple[str, str, str]:
    parts = [p for p in path[len(PREFIX):].split("/") if p]
    if len(parts) != 3 or parts[0] not in PROVIDERS:
        raise errors.NotFound(
            f"no webhook receiver at {path}; the address is {PREFIX}github|gitlab/<namespace>/<name>")
    return PROVIDERS[parts[0]], parts[1], parts[2]


def url(base_url: str, kind: str, namespace: str, name: str) -> str:
    """The receiver URL of one source: what `status.webhookUrl` says."""
    provider = next(p for p, k in PROVIDERS.items() if k == kind)
    return f"{base_url}{PREFIX}{provider}/{namespace}/{name}"
