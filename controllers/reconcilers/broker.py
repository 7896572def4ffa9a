"""ReconcileKind for Broker: address, ingress, filter and dead-letter sink. Pure.

Ripple's broker data plane is multi-tenant, as Knative's MT broker: one ingress serves
every Broker at `<base>/<namespace>/<name>`, and every worker fans out every broker log,
so a Broker that exists is served. What can fail is its dead-letter sink.
"""

from __future__ import annotations

import copy

from controllers.reconcilers import dead_letters
from controllers.reconcilers.observing import Context, Object
from ripple.api import meta
from ripple.api.eventing import broker_lifecycle as lifecycle


def reconcile(broker: Object, ctx: Context) -> Object:
    status = copy.deepcopy(broker.get("status") or {})
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, name = meta.key(broker)
    lifecycle.mark_ingress_ready(status, now=now)
    lifecycle.mark_filter_ready(status, now=now)
    lifecycle.mark_addressable(status, f"{ctx.base_url}/{namespace}/{name}", now=now)
    dead_letter = ((broker.get("spec") or {}).get("delivery") or {}).get("deadLetterSink")
    dead_letters.mark(lifecycle, status, dead_letter, namespace, ctx)
    status["observedGeneration"] = meta.metadata(broker).get("generation")
    return status
