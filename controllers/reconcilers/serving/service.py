"""ReconcileKind for Service: its Configuration and Route, and its status from theirs. Pure.

Follows `pkg/reconciler/service/service.go`:
- the children are a Configuration and a Route named as the Service
  (`resources.make_configuration`, `resources.make_route`); one of that name that the
  Service does not control is reported (`NotOwned`) and left alone;
- `ConfigurationsReady` follows the Configuration's Ready once it has reconciled its
  latest spec (else Unknown `OutOfDate`), and the status takes its
  `latestCreatedRevisionName` and `latestReadyRevisionName`;
- `RoutesReady` likewise follows the Route, and the status takes its `url`, `address`
  and `traffic`; a Ready Route whose resolved traffic is not yet what the Service asks
  (the latest ready Revision in place of the Configuration) is Unknown
  `TrafficNotMigrated`, as upstream's `checkRoutesNotReady`.
"""

from __future__ import annotations

import copy
from typing import Any

from controllers.reconciling import Context, Object, Result
from controllers.reconcilers.serving import resources
from ripple.api import conditions, meta
from ripple.api.serving import configuration_types, route_types
from ripple.api.serving import service_lifecycle as lifecycle


def reconcile(service: Object, ctx: Context) -> Result:
    status = copy.deepcopy(service.get("status") or {})
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, name = meta.key(service)
    children: list[Object] = []
    uid = meta.metadata(service).get("uid")

    configuration = ctx.observed.get(configuration_types.API_VERSION, configuration_types.KIND,
                                     namespace, name)
    if configuration is not None and not _controlled(configuration, service, uid):
        lifecycle.mark_configuration_not_owned(status, name, now=now)
        configuration = None
    else:
        children.append(resources.make_configuration(service))
        if configuration is not None:
            if _out_of_date(configuration):
                lifecycle.mark_configuration_not_reconciled(status, now=now)
            else:
                lifecycle.propagate_configuration_status(status, configuration.get("status") or {},
                                                         now=now)

    route = ctx.observed.get(route_types.API_VERSION, route_types.KIND, namespace, name)
    if route is not None and not _controlled(route, service, uid):
        lifecycle.mark_route_not_owned(status, name, now=now)
    else:
        children.append(resources.make_route(service))
        if route is not None:
            if _out_of_date(route):
                lifecycle.mark_route_not_reconciled(status, now=now)
            else:
                lifecycle.propagate_route_status(status, route.get("status") or {}, now=now)
                _check_routes_not_ready(status, route, configuration, now)
    status["observedGeneration"] = meta.metadata(service).get("generation")
    return Result(status, children=tuple(children))


def _controlled(child: Object, service: Object, uid: Any) -> bool:
    controller = next((r for r in meta.metadata(child).get("ownerReferences") or []
                       if isinstance(r, dict) and r.get("controller")), None)
    if controller is None:
        return False
    if uid:
        return controller.get("uid") == uid
    return controller.get("kind") == service.get("kind") and controller.get("name") == meta.key(service)[1]


def _out_of_date(child: Object) -> bool:
    """The child's status describes an older spec (its observedGeneration lags)."""
    generation = meta.metadata(child).get("generation")
    return generation is not None and (child.get("status") or {}).get("observedGeneration") != generation


def _check_routes_not_ready(status: Object, route: Object, configuration: Object | None,
                            now: Any) -> None:
    routes_ready = lifecycle.CONDITIONS.get(status, lifecycle.ROUTES_READY) or {}
    if routes_ready.get("status") != conditions.TRUE:
        return
    want = copy.deepcopy((route.get("spec") or {}).get("traffic") or [])
    got = (route.get("status") or {}).get("traffic") or []
    latest_ready = ((configuration or {}).get("status") or {}).get("latestReadyRevisionName")
    if len(want) != len(got):
        lifecycle.mark_route_not_yet_ready(status, now=now)
        return
    for w, g in zip(want, got):
        if w.get("configurationName") == meta.key(route)[1]:
            w["revisionName"] = latest_ready
        if (w.get("revisionName"), w.get("percent"), w.get("tag")) != (
                g.get("revisionName"), g.get("percent"), g.get("tag")):
            lifecycle.mark_route_not_yet_ready(status, now=now)
            return
