"""ReconcileKind for the sources: PingSource, GitHubSource, GitLabSource, KafkaSource. Pure.

Every Ripple process runs every source's adapter (the ping scheduler, the webhook
receivers, the Kafka consumers), so what a reconciler can find wrong is what the source
points at: its sink (`SinkProvided`, `status.sinkUri`), its Secrets (`SecretsProvided`),
the dead-letter sink of a KafkaSource, and whether its webhook is registered
(`WebhookConfigured`; the local platform's registrar does the registering and records the
hook id). `status.ceAttributes` lists the (type, source) pairs the source emits, as
Knative's SourceStatus does, so a user can write Triggers without sending a first event.
"""

from __future__ import annotations

import copy
from typing import Any

from controllers import resolving
from controllers.reconcilers.observing import Context, Object
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
from sources.webhooks import receiver

REGISTRATION_FAILED = "RegistrationFailed"
"""The reason the registrar writes when the provider refused the hook; kept until it succeeds."""


def reconcile_ping_source(source: Object, ctx: Context) -> Object:
    lifecycle = ping_source_lifecycle
    status = _start(lifecycle, source, ctx)
    namespace, name = meta.key(source)
    _sink(lifecycle, source, status, ctx)
    lifecycle.mark_deployed(status, now=ctx.now)  # every process runs the ping scheduler
    status["ceAttributes"] = [{"type": ping_source_types.EVENT_TYPE,
                               "source": ping_source_types.event_source(namespace, name)}]
    return _finish(source, status)


def reconcile_github_source(source: Object, ctx: Context) -> Object:
    lifecycle = github_source_lifecycle
    status = _start(lifecycle, source, ctx)
    spec = source.get("spec") or {}
    missing = _missing_secrets(source, ("secretToken", "accessToken"), ctx)
    if missing:
        lifecycle.mark_no_secrets(status, "SecretNotFound", "; ".join(missing), now=ctx.now)
    else:
        lifecycle.mark_secrets(status, now=ctx.now)
    _sink(lifecycle, source, status, ctx)
    _webhook(lifecycle, github_source_types, source, status, ctx, status.get("webhookIDKey"))
    origin = github_source_types.event_source(str(spec.get("ownerAndRepository", "")))
    status["ceAttributes"] = [{"type": github_source_types.EVENT_TYPE_PREFIX + t, "source": origin}
                              for t in spec.get("eventTypes") or ()]
    return _finish(source, status)


def reconcile_gitlab_source(source: Object, ctx: Context) -> Object:
    lifecycle = gitlab_source_lifecycle
    status = _start(lifecycle, source, ctx)
    spec = source.get("spec") or {}
    _sink(lifecycle, source, status, ctx)
    missing = _missing_secrets(source, ("secretToken", "accessToken"), ctx)
    if missing:
        lifecycle.mark_not_deployed(status, "SecretNotFound", "; ".join(missing), now=ctx.now)
    else:
        lifecycle.mark_deployed(status, now=ctx.now)
    _webhook(lifecycle, gitlab_source_types, source, status, ctx, status.get("webhookID"))
    status["ceAttributes"] = [
        {"type": gitlab_source_types.EVENT_TYPE_PREFIX + gitlab_source_types.event_kind(t),
         "source": str(spec.get("projectUrl", ""))}
        for t in spec.get("eventTypes") or ()]
    return _finish(source, status)


def reconcile_kafka_source(source: Object, ctx: Context) -> Object:
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
    _consumers(lifecycle, ctx.reports.get(("KafkaSource", namespace, name), []), status, ctx)
    status["ceAttributes"] = [{"type": kafka_source_types.EVENT_TYPE,
                               "source": kafka_source_types.event_source(namespace, name, t)}
                              for t in spec.get("topics") or ()]
    return _finish(source, status)


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
             hook_id: str | None) -> None:
    namespace, name = meta.key(source)
    url = receiver.url(ctx.base_url, source["kind"], namespace, name)
    if not types.wants_registration(source) or hook_id:
        lifecycle.mark_webhook_configured(status, url, now=ctx.now, hook_id=hook_id)
        return
    status["webhookUrl"] = url
    current = lifecycle.CONDITIONS.get(status, "WebhookConfigured") or {}
    if current.get("reason") != REGISTRATION_FAILED:
        lifecycle.mark_webhook_not_configured(
            status, "WebhookNotRegistered", f"Ripple is registering {url} with the provider",
            now=ctx.now)
