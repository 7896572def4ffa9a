"""The controller's leader election: a `coordination.k8s.io/v1` Lease, as client-go's.

One replica of `ripple-controller` holds the Lease `ripple-controller` in `ripple-system`
and reconciles; the others wait, with their caches warm. It has `ripple.leases.Lease`'s
interface (`acquire`, `keep`, `release`, `ttl`, `holder`), so `controllers.leading.lead`
runs the reconcilers under either.

As client-go does, expiry is judged by this replica's own clock: a Lease whose record has
not changed for `leaseDurationSeconds` since this replica first saw it is free, whatever
the holder's clock wrote into `renewTime`. Every write carries the resourceVersion it was
computed from, so two replicas taking a free Lease at once cannot both win: one gets a 409.

Called by `operator`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any, Awaitable, Callable

from controllers.platforms.kubernetes import api as kube
from ripple import errors

log = logging.getLogger(__name__)


def _micro_time(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class KubeLease:
    def __init__(self, client: kube.KubeApi, namespace: str, name: str, holder: str, *,
                 ttl: float = 15.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.client, self.namespace, self.name, self.holder = client, namespace, name, holder
        self.ttl, self.clock, self.sleep = ttl, clock, sleep
        self.expires = 0.0
        self._seen: tuple[str, float] | None = None
        """(resourceVersion, when this replica first saw it): client-go's observedTime."""

    def _spec(self, spec: dict[str, Any], *, taking: bool) -> dict[str, Any]:
        now = _micro_time(dt.datetime.now(dt.UTC))
        wanted = {"holderIdentity": self.holder, "leaseDurationSeconds": max(1, round(self.ttl)),
                  "renewTime": now}
        if taking:
            wanted["acquireTime"] = now
            # client-go counts every change of holder; a new Lease starts at 0.
            wanted["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if spec else 0)
        return wanted

    async def _try(self) -> bool:
        """One attempt to take or re-take the Lease."""
        try:
            lease = await self.client.get(kube.LEASES, self.namespace, self.name)
        except errors.NotFound:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": self._spec({}, taking=True)}
            try:
                await self.client.create(body)
                return True
            except errors.Conflict:
                return False
        spec = lease.get("spec") or {}
        version = str(lease.get("metadata", {}).get("resourceVersion", ""))
        now = self.clock()
        if self._seen is None or self._seen[0] != version:
            self._seen = (version, now)
        holder = spec.get("holderIdentity")
        duration = float(spec.get("leaseDurationSeconds") or self.ttl)
        if holder and holder != self.holder and now - self._seen[1] < duration:
            return False  # held, and renewed within its duration as far as we have seen
        patch = {"metadata": {"resourceVersion": version},
                 "spec": self._spec(spec, taking=holder != self.holder)}
        try:
            await self.client.patch(kube.LEASES, self.namespace, self.name, patch)
        except (errors.Conflict, errors.NotFound):
            return False
        return True

    async def acquire(self) -> None:
        """Wait until this replica holds the Lease."""
        while True:
            sent = self.clock()
            try:
                if await self._try():
                    self.expires = sent + self.ttl
                    return
            except errors.RippleError as exc:
                log.warning("leader lease unreadable; contending again", extra={"error": str(exc)})
            await self.sleep(self.ttl / 3)

    async def keep(self) -> None:
        """Renew until the Lease is lost or may be lost; returns then."""
        while True:
            await self.sleep(self.ttl / 3)
            sent = self.clock()
            left = self.expires - self.ttl / 10 - sent
            if left <= 0:
                log.warning("leader lease expired before its renewal")
                return
            try:
                lease = await asyncio.wait_for(
                    self.client.get(kube.LEASES, self.namespace, self.name), left)
                if (lease.get("spec") or {}).get("holderIdentity") != self.holder:
                    log.warning("leader lease taken by another replica")
                    return
                patch = {"metadata": {"resourceVersion": lease["metadata"].get("resourceVersion")},
                         "spec": self._spec(lease.get("spec") or {}, taking=False)}
                await asyncio.wait_for(
                    self.client.patch(kube.LEASES, self.namespace, self.name, patch), left)
            except (errors.RippleError, asyncio.TimeoutError) as exc:
                log.warning("leader lease renewal failed; taking it as lost",
                            extra={"error": str(exc) or type(exc).__name__})
                self.expires = 0.0
                return
            self.expires = sent + self.ttl

    async def release(self) -> None:
        """Give the Lease up, if this replica still holds it, so another takes it at once."""
        self.expires = 0.0
        try:
            lease = await self.client.get(kube.LEASES, self.namespace, self.name)
        except errors.NotFound:
            return
        if (lease.get("spec") or {}).get("holderIdentity") != self.holder:
            return
        try:
            await self.client.patch(kube.LEASES, self.namespace, self.name, {
                "metadata": {"resourceVersion": lease["metadata"].get("resourceVersion")},
                "spec": {"holderIdentity": None, "leaseDurationSeconds": 1}})
        except (errors.Conflict, errors.NotFound):
            pass
