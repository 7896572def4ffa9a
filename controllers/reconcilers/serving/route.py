"""ReconcileKind for Route: traffic resolved to Ready Revisions, URLs, ingress. Pure.

Follows `pkg/reconciler/route/route.go` and `traffic/traffic.go`:
- each `configurationName` target (a Service's `latestRevision` entries) becomes the
  Configuration's `latestReadyRevisionName`; each `revisionName` target must name a Ready
  Revision (of the same Service, when the Route belongs to one);
- errors are deferred: every target is looked at, the first error is reported on
  `AllTrafficAssigned` (False for a failed or missing target, Unknown for one still
  coming up), and `status.traffic` keeps what was last resolved, so the router keeps
  sending traffic where it went;
- otherwise `status.traffic` is the spec's entries flattened to `revisionName`
  (`configurationName` cleared, `latestRevision` kept), entries with the same (tag,
  revisionName, latestRevision) merged with their percents added, and tagged entries
  carrying their URL;
- `status.url` is Knative's `http://NAME.NAMESPACE.svc.cluster.local` and
  `status.address.url` the path under `ripple up`'s base URL that works without DNS
  (`ripple.api.serving.urls`, the one place the scheme lives; the router is built in
  `serving/`); the address is set only once every target is routable, so a Trigger or
  a Sequence's step pointing at a new Service resolves, and turns Ready, only when the
  Service can take its events;
- `IngressReady` waits for every data-plane process to apply the Route (its router);
  `CertificateProvisioned` is True, `TLSNotEnabled`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from controllers.reconcilers import waiting
from controllers.reconciling import Context, Object, Result
from ripple.api import meta
from ripple.api.serving import configuration_types, revision_lifecycle, revision_types, urls
from ripple.api.serving import route_lifecycle as lifecycle

Mark = Callable[[Object], None]


def reconcile(route: Object, ctx: Context) -> Result:
    status = copy.deepcopy(route.get("status") or {})
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, name = meta.key(route)
    url = urls.address_url(ctx.base_url, namespace, name)
    lifecycle.set_url(status, url)
    traffic, failure = resolve(route, ctx)
    if failure is not None:
        failure(status)
    else:
        status["traffic"] = traffic
        lifecycle.set_address(status, url)
        lifecycle.mark_traffic_assigned(status, now=now)
    served = waiting.served(route, lifecycle.CONDITIONS.get(status, lifecycle.INGRESS_READY), ctx)
    if served:
        lifecycle.mark_ingress_ready(status, now=now)
    else:
        lifecycle.mark_ingress_unknown(status, waiting.REASON, waiting.message("router"), now=now)
    lifecycle.mark_tls_not_enabled(status, now=now)
    status["observedGeneration"] = meta.metadata(route).get("generation")
    return Result(status, requeue_after=None if served else waiting.again(route, ctx))


def resolve(route: Object, ctx: Context) -> tuple[list[dict[str, Any]], Mark | None]:
    """`status.traffic` for the Route's spec, or the first error as a status marker."""
    namespace, name = meta.key(route)
    service = meta.labels_of(route).get(revision_types.SERVICE_LABEL)
    failure: Mark | None = None
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for target in (route.get("spec") or {}).get("traffic") or []:
        if not isinstance(target, dict):
            continue
        revision_name, problem = _target_revision(target, namespace, service, ctx)
        if problem is not None:
            failure = failure or problem
            continue
        tag = target.get("tag") or None
        latest = target.get("latestRevision")
        key = (tag, revision_name, latest)
        percent = int(target.get("percent") or 0)
        if key in merged:
            merged[key]["percent"] += percent
            continue
        entry: dict[str, Any] = {}
        if tag:
            entry["tag"] = tag
        entry["revisionName"] = revision_name
        if latest is not None:
            entry["latestRevision"] = latest
        entry["percent"] = percent
        if tag:
            entry["url"] = urls.address_url(ctx.base_url, namespace, name, tag)
        merged[key] = entry
    return list(merged.values()), failure


def _target_revision(target: dict[str, Any], namespace: str, service: str | None,
                     ctx: Context) -> tuple[str, Mark | None]:
    now = ctx.now
    configuration_name = target.get("configurationName")
    revision_name = target.get("revisionName")
    if configuration_name and not revision_name:
        configuration = ctx.observed.get(configuration_types.API_VERSION, configuration_types.KIND,
                                         namespace, configuration_name)
        if configuration is None:
            return "", lambda s: lifecycle.mark_missing_traffic_target(
                s, "Configuration", configuration_name, now=now)
        config_status = configuration.get("status") or {}
        revision_name = config_status.get("latestReadyRevisionName")
        if not revision_name:
            ready = next((c for c in config_status.get("conditions") or []
                          if isinstance(c, dict) and c.get("type") == "Ready"), {})
            if ready.get("status") == "False":
                return "", lambda s: lifecycle.mark_configuration_failed(s, configuration_name, now=now)
            return "", lambda s: lifecycle.mark_configuration_not_ready(s, configuration_name, now=now)
    if not revision_name:
        return "", lambda s: lifecycle.mark_unknown_traffic_error(
            s, "a traffic target names neither a revisionName nor a configurationName", now=now)
    revision = ctx.observed.get(revision_types.API_VERSION, revision_types.KIND, namespace,
                                revision_name)
    if revision is None:
        return "", lambda s: lifecycle.mark_missing_traffic_target(s, "Revision", revision_name, now=now)
    owner = meta.labels_of(revision).get(revision_types.SERVICE_LABEL)
    if service and not configuration_name and owner != service:
        return "", lambda s: lifecycle.mark_revision_not_owned(s, revision_name, service, now=now)
    if revision_lifecycle.is_failed(revision):
        return "", lambda s: lifecycle.mark_revision_failed(s, revision_name, now=now)
    if not revision_lifecycle.is_ready(revision):
        return "", lambda s: lifecycle.mark_revision_not_ready(s, revision_name, now=now)
    return str(revision_name), None
