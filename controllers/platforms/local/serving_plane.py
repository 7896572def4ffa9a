"""Serving on one machine: the router on `ripple up`'s port, the revision runtime behind
it, and what ties them to the autoscaler. Built by `platform.run_worker`.

- The router (`serving.routing.Router`) answers `/serving/{ns}/{route}[/@tag]/...` and the
  Hosts of Routes; its table follows the Routes' `status.traffic` from the informer.
- Worker 0 runs the revision runtime (`serving.revisions.RevisionPlane`): replicas are
  its children, so only one process may run them. Its ready replicas are the router's
  endpoints; a replica that becomes ready releases the requests the activator buffered.
- A request for a revision at zero activates it at once (`RevisionPlane.activate`); the
  autoscaler (`controllers.autoscaling.driving`, under the controller's lease) decides
  from then on, from the stats each router reports once a second (`ripple.reporting`,
  kind `RevisionStats`).

With `--workers N` > 1 the other workers' routers read worker 0's ready replicas from its
reports (`revisions.ReportedEndpoints`, every 0.25 s); a request for a revision at zero
that reaches them waits in their activator while their stats, written every second, make
the autoscaler scale it up: a cold start there takes a second or two, not milliseconds.
"""

from __future__ import annotations

import ssl

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from controllers.autoscaling import driving
from ripple import errors, reporting
from ripple.informers import Informer
from serving import deferring, revisions, routing, runtime, stats, traffic

log = logging.getLogger(__name__)

Factory = Callable[[], Awaitable[None]]


@dataclass
class ServingPlane:
    router: routing.Router
    tasks: dict[str, Factory] = field(default_factory=dict)
    """Long-lived tasks for the supervisor, by name."""


def build(client: aioredis.Redis, informer: Informer, *, consumer: str, base_url: str,
          runs_revisions: bool, trust: ssl.SSLContext | None = None) -> ServingPlane:
    """`trust`: how the invoker verifies `base_url` when it is https (`--tls-cert`)."""
    table = traffic.Table()

    def sync_routes(changed: set[str] | None = None) -> None:
        if changed is None or "Route" in changed:
            table.sync(informer.list("Route"))

    informer.subscribe(sync_routes)
    tasks: dict[str, Factory] = {}
    endpoints: routing.Endpoints
    activate: Callable[[Any], None] = lambda _key: None  # noqa: E731
    if runs_revisions:
        machine = runtime.Runtime()
        plane = revisions.RevisionPlane(client, informer, machine, consumer=consumer)
        informer.subscribe(plane.kick)
        endpoints = revisions.RuntimeEndpoints(machine, informer)
        tasks["revisions"] = plane.run

        def activate(key: Any) -> None:
            found = [r for r in informer.list("Revision", key.namespace)
                     if r["metadata"]["name"] == key.name]
            if found:
                plane.activate(found[0])
    else:  # the runtime is worker 0's: its replicas are read from its reports
        def release(key: routing.RevisionKey, endpoint: str) -> None:
            router.replica_ready(key, endpoint)

        reported = revisions.ReportedEndpoints(client, informer, release)
        endpoints = reported
        tasks["endpoints"] = reported.run
    invocations = deferring.Queue(client)
    router = routing.Router(table, endpoints, poke=activate, invocations=invocations)
    if runs_revisions:
        def released(key: tuple[str, str], address: tuple[str, int]) -> None:
            router.replica_ready(routing.RevisionKey(*key), f"{address[0]}:{address[1]}")

        machine.on_ready(released)
    tasks["router-stats"] = lambda: _report_stats(router, client, consumer)
    tasks["invoker"] = deferring.Invoker(invocations, base_url, consumer=consumer, trust=trust).run
    return ServingPlane(router, tasks)


async def _report_stats(router: routing.Router, client: aioredis.Redis, consumer: str) -> None:
    """Once a second, this router's stats per revision, for the autoscaler."""
    while True:
        await asyncio.sleep(stats.REPORT_PERIOD)
        found = router.report()
        if not found:
            continue
        reports = {(driving.STATS, key.namespace, key.name): stat._asdict()
                   for key, stat in found if isinstance(key, routing.RevisionKey)}
        try:
            await reporting.write(client, consumer, reports)
        except errors.StoreUnavailable as exc:
            log.warning("router stats not written", extra={"error": str(exc)})
