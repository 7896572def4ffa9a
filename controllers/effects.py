"""Carrying out the effects reconcilers ask for, and remembering how they ended.

A reconciler cannot do I/O; when it needs something done outside the store (register a
GitHub webhook), it returns an `Effect` in its Result. The applier submits it here. An
effect runs at most once at a time per (object, effect name); when it ends, its `Outcome`
(the value, or the error's message, with the time) is recorded and the object is queued
again, so its reconciler reads the outcome through `Context.outcome` and writes status.
The outcomes live in this process: after a restart an effect whose result was not yet in
status runs again, which registering a webhook tolerates.

Built by the drivers with a table of handlers by effect type.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from controllers.reconciling import Effect, ObjectRef, Outcome

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[str]]
"""Carries out one effect; its argument is the `Effect` subclass it is registered for."""
Handlers = Mapping[type[Any], Handler]
"""The table of handlers by effect type. Its key is `type[Any]`, not `type[Effect]`: a table
literal is inferred with its own key type (`type[RegisterWebhook]`), which an invariant
Mapping key would refuse, and each handler takes only its own subclass anyway."""


class EffectRunner:
    def __init__(self, handlers: Handlers, on_done: Callable[[ObjectRef], None],
                 *, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.handlers, self.on_done, self.clock = handlers, on_done, clock
        self.outcomes: dict[tuple[ObjectRef, str], Outcome] = {}
        self._running: dict[tuple[ObjectRef, str], asyncio.Task[None]] = {}

    def submit(self, owner: ObjectRef, effect: Effect) -> None:
        key = (owner, effect.name)
        if key in self._running:
            return
        handler = self.handlers.get(type(effect))
        if handler is None:
            log.error("no handler for effect", extra={"object": str(owner), "effect": repr(effect)})
            return
        self._running[key] = asyncio.create_task(self._run(key, handler, effect),
                                                 name=f"effect:{owner}:{effect.name}")

    async def _run(self, key: tuple[ObjectRef, str], handler: Handler, effect: Effect) -> None:
        try:
            value = await handler(effect)
            self.outcomes[key] = Outcome(at=self.clock(), value=value)
            log.info("effect done", extra={"object": str(key[0]), "effect": key[1]})
        except Exception as exc:  # the message goes into the object's condition
            self.outcomes[key] = Outcome(at=self.clock(), error=str(exc) or type(exc).__name__)
            log.warning("effect failed", extra={"object": str(key[0]), "effect": key[1],
                                                "error": str(exc)})
        finally:
            self._running.pop(key, None)
        self.on_done(key[0])

    def forget(self, owner: ObjectRef) -> None:
        """Drop what is known of a deleted object's effects."""
        for key in [k for k in self.outcomes if k[0] == owner]:
            del self.outcomes[key]

    async def close(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
