"""Running the reconcilers only while this process leads: `lead(lease, reconcile)`.

Called by both platforms' leader tasks: `platforms.local.platform` with a Redis lease
(`ripple.leases.Lease`), `platforms.kubernetes.operator` with a `coordination.k8s.io`
Lease (`platforms.kubernetes.leases.KubeLease`); both have `acquire`, `keep`, `release`,
`ttl` and `holder`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Callable, Coroutine, Protocol

from ripple import errors

log = logging.getLogger(__name__)


class Lease(Protocol):
    holder: str
    ttl: float

    async def acquire(self) -> None: ...

    async def keep(self) -> None: ...

    async def release(self) -> None: ...


async def lead(lease: Lease, reconcile: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run the reconcilers while this process holds the lease.

    A lease lost or maybe lost (a store error on renewal) stops them at once and contends
    again; reconcilers that end or crash give the lease up, and the crash reaches the
    supervisor, which restarts this loop with backoff.
    """
    while True:
        await lease.acquire()
        log.info("controller lease acquired; reconciling", extra={"holder": lease.holder})
        work = asyncio.create_task(reconcile(), name="reconcilers")
        keeping = asyncio.create_task(lease.keep(), name="leader-lease")
        try:
            await asyncio.wait([work, keeping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, keeping):
                task.cancel()
            # Bounded: the reconcilers must be gone before the lease lapses for others.
            _, stuck = await asyncio.wait([work, keeping], timeout=max(lease.ttl / 3, 0.1))
            if work in stuck:
                log.error("the reconcilers did not stop when the lease was lost")
        if not work.cancelled() and work.done():
            with contextlib.suppress(errors.StoreUnavailable):
                await lease.release()  # let another worker reconcile while this one restarts
            work.result()  # a crash is the supervisor's to log and restart
            raise RuntimeError("the reconcilers returned")
        log.warning("controller lease lost; reconcilers stopped, contending again")


