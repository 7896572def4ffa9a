"""Resolving a `delivery.deadLetterSink` into `status.deadLetterSinkUri`: shared by the
Broker, Trigger and channel reconcilers. Pure."""

from __future__ import annotations

from typing import Any

from controllers import resolving
from controllers.reconciling import Context, Object

UNRESOLVED = "Unable to get the dead letter sink's URI"


def mark(lifecycle: Any, status: Object, destination: Object | None, namespace: str,
         ctx: Context) -> None:
    """`lifecycle` is the kind's lifecycle module, with Knative's three DLS marks."""
    if not destination:
        lifecycle.mark_dead_letter_sink_not_configured(status, now=ctx.now)
        return
    found = resolving.resolve_destination(destination, namespace, ctx.observed.get)
    if found.uri is not None:
        lifecycle.mark_dead_letter_sink_resolved(status, found.uri, now=ctx.now)
    else:
        lifecycle.mark_dead_letter_sink_failed(status, UNRESOLVED, found.message, now=ctx.now)
