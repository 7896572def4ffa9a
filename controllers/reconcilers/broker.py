"""ReconcileKind for Broker: class, address, ingress, filter and dead-letter sink. Pure.

Ripple's broker data plane is multi-tenant, as Knative's MT broker: one ingress serves
every Broker at `<base>/<namespace>/<name>`, and every worker fans out every broker log.
A Broker is Ready only once every data-plane process routes it (`Context.data_plane`), as
Knative's Broker waits for its ingress: a producer that waits for Ready never gets a 404.
A Broker of a class Ripple does not implement is left to whoever does: not Ready, no
address, and the data plane does not serve it.

A Broker in a namespace that is the first segment of a path Ripple's front serves itself
(`/console/`, `/api/`, `/channels/`, ...: `SHADOWED_NAMESPACES`) could never be posted to
at `<base>/<namespace>/<name>`: it gets no address, and its IngressReady says why.
"""

from __future__ import annotations

import copy

from controllers.reconcilers import dead_letters, waiting
from controllers.reconciling import Context, Object, Result
from ripple.api import meta
from ripple.api.eventing import broker_lifecycle as lifecycle
from ripple.api.eventing import broker_types


SHADOWED_NAMESPACES = frozenset({
    "api", "apis", "openapi.json", "docs", "redoc", "console", "tail",  # the control paths
    "channels", "webhooks", "serving", "healthz", "metrics",  # the data plane's own paths
})
"""First path segments the HTTP front (`controllers.platforms.local.routing`) routes
elsewhere than to the broker ingress."""


def reconcile(broker: Object, ctx: Context) -> Result:
    status = copy.deepcopy(broker.get("status") or {})
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, name = meta.key(broker)
    status["observedGeneration"] = meta.metadata(broker).get("generation")
    broker_class = broker_types.broker_class(broker)
    if broker_class not in broker_types.CLASSES:
        message = (f'Ripple does not implement the broker class "{broker_class}" '
                   f"(annotation {broker_types.CLASS_ANNOTATION}); it implements "
                   f"{', '.join(broker_types.CLASSES)}")
        status.pop("address", None)
        status.pop("deadLetterSinkUri", None)
        lifecycle.mark_addressable_unknown(status, "BrokerClassNotSupported", message, now=now)
        lifecycle.mark_filter_failed(status, "BrokerClassNotSupported", message, now=now)
        lifecycle.mark_ingress_failed(status, "BrokerClassNotSupported", message, now=now)
        return Result(status)
    if namespace in SHADOWED_NAMESPACES:
        message = (f'the namespace "{namespace}" is a path Ripple serves itself '
                   f"({ctx.base_url}/{namespace}/...), so a Broker there can never be posted to; "
                   "create it in another namespace")
        status.pop("address", None)
        lifecycle.mark_addressable_unknown(status, "NamespaceShadowed", message, now=now)
        lifecycle.mark_ingress_failed(status, "NamespaceShadowed", message, now=now)
        return Result(status)
    served = waiting.served(broker, lifecycle.CONDITIONS.get(status, lifecycle.INGRESS), ctx)
    if served:
        lifecycle.mark_ingress_ready(status, now=now)
        lifecycle.mark_filter_ready(status, now=now)
    else:
        lifecycle.mark_ingress_unknown(status, waiting.REASON, waiting.message("ingress"), now=now)
        lifecycle.mark_filter_unknown(status, waiting.REASON, waiting.message("fan-out"), now=now)
    lifecycle.mark_addressable(status, f"{ctx.base_url}/{namespace}/{name}", now=now)
    dead_letter = ((broker.get("spec") or {}).get("delivery") or {}).get("deadLetterSink")
    dead_letters.mark(lifecycle, status, dead_letter, namespace, ctx)
    return Result(status, requeue_after=None if served else waiting.again(broker, ctx))

