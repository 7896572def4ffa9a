"""A user's function: loading `FILE:FUNCTION`, the markers a module may set, and what a
handler receives and returns.

Called by `serving.hosting` (one process serving one function) and `serving.zygote` (a
parent that loads the function once and forks replicas). A user's module imports nothing
from Ripple unless it wants the markers below; both are plain attributes, so a module can
also set them by hand:

- `@serving.http` (sets `handler.ripple_http = True`): the handler receives a `Request`
  (method, path, query, headers, body) rather than a CloudEvent.
- `@serving.fork_safe` on `init` (sets `init.ripple_fork_safe = True`): the zygote runs
  `init(context)` once, before forking, and every replica inherits what it built. Without
  it `init` runs in each replica, as sockets, threads and event loops do not survive a
  fork.

A handler is `handler(event)` or `handler(event, context)`, sync or `async def`. `init`,
if the module defines one, is `init(context)`, sync or async, and runs once per process
before the first request (Nuclio's `init_context`); `context.user_data` carries what it
builds to every request.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ripple import errors

INIT = "init"


def http(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Mark `handler` as an HTTP function: it receives a `Request`, not a CloudEvent."""
    handler.ripple_http = True  # type: ignore[attr-defined]
    return handler


def fork_safe(init: Callable[..., Any]) -> Callable[..., Any]:
    """Mark `init` as safe to run once in the zygote, before replicas are forked from it."""
    init.ripple_fork_safe = True  # type: ignore[attr-defined]
    return init


@dataclasses.dataclass
class Context:
    """What `init(context)` and a two-argument handler receive, one per process."""

    logger: logging.Logger
    user_data: dict[str, Any]
    function: str


@dataclasses.dataclass(frozen=True)
class Request:
    """An HTTP function's argument. Header names are lower-case."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclasses.dataclass(frozen=True)
class Response:
    """What a handler returns to choose the status or headers; `body` as a return value."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Function:
    """A loaded function: the handler, its optional `init`, and how to call them."""

    name: str
    handler: Callable[..., Any]
    init: Callable[..., Any] | None
    is_http: bool
    is_async: bool
    takes_context: bool
    init_fork_safe: bool


def parse_target(target: str) -> tuple[Path, str]:
    """`FILE:FUNCTION` -> (path, name); the rule is named in the error."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name.isidentifier():
        raise errors.Invalid(
            f"function {target!r}: expected FILE:FUNCTION, e.g. handler.py:main")
    return Path(path), name


def load(target: str) -> Function:
    """Import FILE as a module (its directory first on sys.path) and take FUNCTION from it."""
    path, name = parse_target(target)
    if not path.is_file():
        raise errors.Invalid(f"function {target!r}: file {str(path)!r} does not exist")
    module_name = path.stem if path.stem.isidentifier() else "ripple_function"
    spec = importlib.util.spec_from_file_location(module_name, path.resolve())
    if spec is None or spec.loader is None:
        raise errors.Invalid(f"function {target!r}: {str(path)!r} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    handler = getattr(module, name, None)
    if not callable(handler):
        raise errors.Invalid(f"function {target!r}: {path.name} defines no function {name!r}")
    init = getattr(module, INIT, None)
    if init is not None and not callable(init):
        raise errors.Invalid(f"function {target!r}: {INIT!r} must be a function init(context)")
    return make_function(name, handler, init)


def make_function(name: str, handler: Callable[..., Any],
                  init: Callable[..., Any] | None = None) -> Function:
    fork_safe_init = bool(getattr(init, "ripple_fork_safe", False))
    if fork_safe_init and inspect.iscoroutinefunction(init):
        raise errors.Invalid(
            f"function {name!r}: a fork-safe init must be sync: no event loop survives a fork")
    return Function(
        name=name, handler=handler, init=init,
        is_http=bool(getattr(handler, "ripple_http", False)),
        is_async=inspect.iscoroutinefunction(handler),
        takes_context=_positional_arity(handler) >= 2,
        init_fork_safe=fork_safe_init,
    )


def _positional_arity(handler: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(1 for p in parameters if p.kind in kinds)


def new_context(function: Function) -> Context:
    return Context(logger=logging.getLogger(f"ripple.function.{function.name}"),
                   user_data={}, function=function.name)
