"""ReconcileKind for the sources: PingSource, GitHubSource, GitLabSource, KafkaSource. Pure.

Every Ripple process runs every source's adapter (the ping scheduler, the webhook
receivers, the Kafka consumers), so what a reconciler can find wrong is what the source
points at: its sink (`SinkProvided`, `status.sinkUri`), its Secrets (`SecretsProvided`),
the dead-letter sink of a KafkaSource, and whether its webhook is registered
(`WebhookConfigured`). Registering is an effect (`RegisterWebhook`) the reconciler asks
for and the platform carries out (`controllers.webhooks`); its outcome comes back through
`Context.outcome`, and the reconciler records the hook id (`status.webhookIDKey` for
GitHub, `status.webhookID` for GitLab) or the provider's refusal, retried after
`RETRY_AFTER`. The KafkaSource's consumer conditions come from the adapters' reports
(`Context.data_plane.reports`), read again every `reporting.INTERVAL`.
`status.ceAttributes` lists the (type, source) pairs the source emits, as Knative's
SourceStatus does, so a user can write Triggers without sending a first event.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from controllers import resolving
from controllers.reconciling import Context, Effect, Object, Result
from ripple import errors
from ripple.api import meta
from ripple.api.core import secret as secrets
from ripple.api.sources import (
    github_source_lifecycle,
    github_source_types,
    gitlab_source_lifecycle,
    gitlab_source_types,
    kafka_source_lifecycle,
    kafka_source_types,
    ping_source_lifecycle,
    ping_source_types,
)
from sources import reporting
from sources.webhooks import receiver

REGISTRATION_FAILED = "RegistrationFailed"
"""The reason written when the provider refused the hook; kept until it succeeds."""
WEBHOOK = "webhook"
"""The name of the registration effect, as `Context.outcome` knows it."""
RETRY_AFTER = dt.timedelta(seconds=60)
GITHUB_API = "https://api.github.com"
ID_FIELDS = {"GitHubSource": "webhookIDKey", "GitLabSource": "webhookID"}


@dataclass(frozen=True)
class RegisterWebhook(Effect):
    """Create the provider's webhook for a source; the outcome's value is the hook id."""

    provider: str = ""  # "github" or "gitlab"
    api_url: str = ""  # GitHub's API base, or GitLab's scheme://host
    repository: str = ""  # GitHub ownerAndRepository, or GitLab projectUrl
    hook_url: str = ""
    events: tuple[str, ...] = ()
    ssl_verify: bool = True
    token: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)


def reconcile_ping_source(source: Object, ctx: Context) -> Result:
    lifecycle = ping_source_lifecycle
    status = _start(lifecycle, source, ctx)
    namespace, name = meta.key(source)
    _sink(lifecycle, source, status, ctx)
    lifecycle.mark_deployed(status, now=ctx.now)  # every process runs the ping scheduler
    status["ceAttributes"] = [{"type": ping_source_types.EVENT_TYPE,
                               "source": ping_source_types.event_source(namespace, name)}]
    return Result(_finish(source, status))


def reconcile_github_source(source: Object, ctx: Context) -> Result:
    lifecycle = github_source_lifecycle
    status = _start(lifecycle, source, ctx)
    spec = source.get("spec") or {}
    missing = _missing_secrets(source, ("secretToken", "accessToken"), ctx)
    if missing:
        lifecycle.mark_no_secrets(status, "SecretNotFound", "; ".join(missing), now=ctx.now)
    else:
        lifecycle.mark_secrets(status, now=ctx.now)
    _sink(lifecycle, source, status, ctx)
    effects, again = _webhook(lifecycle, github_source_types, source, status, ctx, not missing)
    origin = github_source_types.event_source(str(spec.get("ownerAndRepository", "")))
    status["ceAttributes"] = [{"type": github_source_types.EVENT_TYPE_PREFIX + t, "source": origin}
                              for t in spec.get("eventTypes") or ()]
    return Result(_finish(source, status), effects=effects, requeue_after=again)


def reconcile_gitlab_source(source: Object, ctx: Context) -> Result:
    lifecycle = gitlab_source_lifecycle
    status = _start(lifecycle, source, ctx)
    spec = source.get("spec") or {}
    _sink(lifecycle, source, status, ctx)
    missing = _missing_secrets(source, ("secretToken", "accessToken"), ctx)
    if missing:
        lifecycle.mark_not_deployed(status, "SecretNotFound", "; ".join(missing), now=ctx.now)
    else:
        lifecycle.mark_deployed(status, now=ctx.now)
    effects, again = _webhook(lifecycle, gitlab_source_types, source, status, ctx, not missing)
    status["ceAttributes"] = [
        {"type": gitlab_source_types.EVENT_TYPE_PREFIX + gitlab_source_types.event_kind(t),
         "source": str(spec.get("projectUrl", ""))}
        for t in spec.get("eventTypes") or ()]
    return Result(_finish(source, status), effects=effects, requeue_after=again)


def reconcile_kafka_source(source: Object, ctx: Context) -> Result:
    lifecycle = kafka_source_lifecycle
    status = _start(lifecycle, source, ctx)
    namespace, name = meta.key(source)
    spec = source.get("spec") or {}
    _sink(lifecycle, source, status, ctx)
    dead_letter = (spec.get("delivery") or {}).get("deadLetterSink")
    found = resolving.resolve_destination(dead_letter, namespace, ctx.observed.get) if dead_letter else None
    if found is not None and not found.ok:
        status.pop("deadLetterSinkUri", None)
        lifecycle.mark_not_deployed(status, "DeadLetterSinkNotResolved", found.message, now=ctx.now)
    else:
        if found is not None:
            status["deadLetterSinkUri"] = found.uri
        else:
            status.pop("deadLetterSinkUri", None)
        lifecycle.mark_deployed(status, now=ctx.now)  # every process runs a group member
    _consumers(lifecycle, ctx.data_plane.reports.get(("KafkaSource", namespace, name), []),
               status, ctx)
    status["ceAttributes"] = [{"type": kafka_source_types.EVENT_TYPE,
                               "source": kafka_source_types.event_source(namespace, name, t)}
                              for t in spec.get("topics") or ()]
    # The consumers' reports change without a watch event: look again when they refresh.
    return Result(_finish(source, status), requeue_after=reporting.INTERVAL)


def _consumers(lifecycle: Any, reports: list[Object], status: Object, ctx: Context) -> None:
    """ConnectionEstablished and InitialOffsetsCommitted, from the processes' reports."""
    now = ctx.now
    if not reports:
        waiting = "no Ripple process has reported on this source's consumer yet"
        lifecycle.mark_connection_unknown(status, "NoConsumerReport", waiting, now=now)
        lifecycle.mark_initial_offsets_unknown(status, "NoConsumerReport", waiting, now=now)
        return
    if not any(r.get("connected") for r in reports):
        problems = sorted({str(r.get("error") or "connecting") for r in reports})
        lifecycle.mark_connection_established_failed(status, "ConnectionFailed", "; ".join(problems), now=now)
        lifecycle.mark_initial_offsets_unknown(status, "NotConnected", "no consumer is connected", now=now)
        return
    lifecycle.mark_connection_established(status, now=now)
    if any(r.get("offsetsCommitted") for r in reports):
        lifecycle.mark_initial_offsets_committed(status, now=now)
    else:
        lifecycle.mark_initial_offsets_unknown(
            status, "OffsetsNotCommitted", "the consumer group has not committed its initial offsets yet",
            now=now)


def _start(lifecycle: Any, source: Object, ctx: Context) -> Object:
    status = copy.deepcopy(source.get("status") or {})
    lifecycle.initialize(status, now=ctx.now)
    return status


def _finish(source: Object, status: Object) -> Object:
    status["observedGeneration"] = meta.metadata(source).get("generation")
    return status


def _sink(lifecycle: Any, source: Object, status: Object, ctx: Context) -> None:
    namespace, _ = meta.key(source)
    found = resolving.resolve_destination((source.get("spec") or {}).get("sink"), namespace,
                                          ctx.observed.get)
    if found.uri is not None:
        lifecycle.mark_sink(status, found.uri, now=ctx.now)
    else:
        lifecycle.mark_no_sink(status, "NotFound", f"sink: {found.message}", now=ctx.now)


def _missing_secrets(source: Object, fields: tuple[str, ...], ctx: Context) -> list[str]:
    """What is wrong with each `spec.<field>.secretKeyRef` that is set."""
    namespace, _ = meta.key(source)
    spec = source.get("spec") or {}
    problems = []
    for field in fields:
        ref = (spec.get(field) or {}).get("secretKeyRef")
        if not isinstance(ref, dict):
            continue
        secret = ctx.observed.get("v1", "Secret", namespace, str(ref.get("name", "")))
        if secret is None:
            problems.append(f'spec.{field}: secret "{namespace}/{ref.get("name")}" not found')
            continue
        try:
            secrets.secret_value(secret, str(ref.get("key", "")))
        except errors.NotFound as exc:
            problems.append(f"spec.{field}: {exc}")
    return problems


def _webhook(lifecycle: Any, types: Any, source: Object, status: Object, ctx: Context,
             secrets_ok: bool) -> tuple[tuple[Effect, ...], float | None]:
    """WebhookConfigured, and the registration effect while one is wanted."""
    namespace, name = meta.key(source)
    kind = source["kind"]
    url = receiver.url(ctx.base_url, kind, namespace, name)
    outcome = ctx.outcome(source, WEBHOOK)
    hook_id = status.get(ID_FIELDS[kind])
    if not hook_id and outcome is not None and outcome.ok:
        hook_id = status[ID_FIELDS[kind]] = outcome.value
    if not types.wants_registration(source) or hook_id:
        lifecycle.mark_webhook_configured(status, url, now=ctx.now, hook_id=hook_id)
        return (), None
    status["webhookUrl"] = url
    if outcome is not None and not outcome.ok:
        lifecycle.mark_webhook_not_configured(status, REGISTRATION_FAILED, str(outcome.error),
                                              now=ctx.now)
        due = outcome.at + RETRY_AFTER
        if ctx.now < due:
            return (), (due - ctx.now).total_seconds()
    elif (lifecycle.CONDITIONS.get(status, "WebhookConfigured") or {}).get("reason") != REGISTRATION_FAILED:
        lifecycle.mark_webhook_not_configured(
            status, "WebhookNotRegistered", f"Ripple is registering {url} with the provider",
            now=ctx.now)
    if not secrets_ok:
        return (), None  # SecretsProvided says why; the Secret's creation reconciles again
    return (_registration(kind, source, url, ctx),), None


def _registration(kind: str, source: Object, url: str, ctx: Context) -> RegisterWebhook:
    namespace, _ = meta.key(source)
    spec = source.get("spec") or {}
    token = _secret_text(namespace, spec, "accessToken", ctx)
    secret = _secret_text(namespace, spec, "secretToken", ctx)
    if kind == "GitHubSource":
        return RegisterWebhook(WEBHOOK, provider="github",
                               api_url=str(spec.get("githubAPIURL") or GITHUB_API),
                               repository=str(spec.get("ownerAndRepository", "")), hook_url=url,
                               events=tuple(spec.get("eventTypes") or ()), token=token, secret=secret)
    parts = urlsplit(str(spec.get("projectUrl", "")))
    return RegisterWebhook(WEBHOOK, provider="gitlab", api_url=f"{parts.scheme}://{parts.netloc}",
                           repository=str(spec.get("projectUrl", "")), hook_url=url,
                           events=tuple(spec.get("eventTypes") or ()),
                           ssl_verify=bool(spec.get("sslverify", True)), token=token, secret=secret)


def _secret_text(namespace: str, spec: Object, field_name: str, ctx: Context) -> str:
    ref = (spec.get(field_name) or {}).get("secretKeyRef") or {}
    secret = ctx.observed.get("v1", "Secret", namespace, str(ref.get("name", "")))
    if secret is None:
        return ""
    try:
        return secrets.secret_value(secret, str(ref.get("key", ""))).decode()
    except (errors.NotFound, UnicodeDecodeError):
        return ""
