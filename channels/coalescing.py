"""Coalesced writes: what is submitted while a write is under way goes in the next one.

`channels.queues` writes the outcome of every delivery through a `Coalescer`, so a burst
of outcomes (many deliveries ending in the same millisecond, as when the attempts of a
hung subscriber time out together) costs one or two round trips to Redis instead of one
each. A lone write goes out at once; no timer, no added latency. Each caller awaits its own
item and gets the batch's error when the batch's write fails.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Awaitable[object]]) -> None:
        self._write = write
        self._items: list[tuple[T, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        """Nothing waits and nothing is being written: the owner may drop this coalescer."""
        return self._flusher is None and not self._items

    async def submit(self, item: T) -> None:
        """Write `item` with whatever else is waiting; return once it is written."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._items.append((item, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        try:
            while self._items:
                batch, self._items = self._items, []
                try:
                    await self._write([item for item, _ in batch])
                except asyncio.CancelledError:  # the loop is closing: nobody is left to wait
                    for _, future in batch + self._items:
                        future.cancel()
                    raise
                except Exception as exc:
                    _settle(batch, exc)
                else:
                    _settle(batch, None)
        finally:
            self._flusher = None


def _settle(batch: list[tuple[T, asyncio.Future[None]]], exc: Exception | None) -> None:
    for _, future in batch:
        if future.done():  # its caller was cancelled
            continue
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)
