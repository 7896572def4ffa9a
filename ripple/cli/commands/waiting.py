"""Waiting for a condition: kn's `--wait` and kubectl's `ripple wait --for condition=...`.

Called by `service` (kn's create/update wait), by `ripple wait KIND NAME` (registered here)
and by the `--wait` flag of `apply` and the kn-style `create` verbs (`add_wait_flags`,
`created`).
`wait_for` is kn's `pkg/wait/wait_for_ready.go`: poll until the object's observedGeneration
catches up and the condition has the wanted status, print each new message, fail on a
Ready=False that lasts the error window (kn) or only on the timeout (kubectl, window None).
The clock and the sleep are arguments, so the loop is table-tested without waiting.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from ripple import errors
from ripple.cli import output
from ripple.cli.client import Client, ResourceType
from ripple.cli.commands import common

ERROR_WINDOW = 2.0  # kn's --wait-window: how long Ready=False must last to be a failure
POLL_INTERVAL = 0.5
DEFAULT_TIMEOUT = 60.0
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")


class NotReady(errors.RippleError):
    """The object did not reach the condition: Ready=False for the window, or the timeout."""


def parse_timeout(text: str) -> float:
    """kubectl's `--timeout`: `60s`, `2m`, `1h30m`, or bare seconds; above 0."""
    found = _DURATION.match(text.strip())
    if not text.strip() or found is None or not any(found.groups()):
        raise errors.Invalid(f"--timeout {text!r}: expected a duration like 60s, 2m or 1h30m")
    hours, minutes, seconds = (float(part or 0) for part in found.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise errors.Invalid(f"--timeout {text!r}: must be above 0")
    return total


def parse_for(text: str) -> tuple[str, str]:
    """kubectl's `--for condition=TYPE[=STATUS]` as (type, status); STATUS defaults to True."""
    what, sep, rest = text.partition("=")
    if what != "condition" or not sep or not rest:
        raise errors.Invalid(f"--for {text!r}: Ripple waits for condition=TYPE[=STATUS], "
                             "e.g. condition=Ready")
    kind, _, status = rest.partition("=")
    status = status or "True"
    if status not in ("True", "False", "Unknown"):
        raise errors.Invalid(f"--for {text!r}: a status is True, False or Unknown")
    return kind, status


def condition_state(obj: dict[str, Any], kind: str = "Ready") -> tuple[str, str, str]:
    """(status, reason, message) of a condition; `Unknown` until observedGeneration catches up."""
    generation = (obj.get("metadata") or {}).get("generation")
    status = obj.get("status") or {}
    if generation is not None and status.get("observedGeneration") != generation:
        return "Unknown", "", ""
    found = output.condition(obj, kind) or {}
    return (str(found.get("status") or "Unknown"), str(found.get("reason") or ""),
            str(found.get("message") or ""))


def ready_state(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(Ready's status, reason, message); `Unknown` until observedGeneration catches up."""
    return condition_state(obj, "Ready")


def wait_for(
    get: Callable[[], dict[str, Any]],
    what: str,
    *,
    timeout: float,
    out: TextIO,
    condition: str = "Ready",
    wanted: str = "True",
    done: str = "Ready to serve.",
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    error_window: float | None = ERROR_WINDOW,
    interval: float = POLL_INTERVAL,
) -> dict[str, Any]:
    """Poll `get` until `condition` is `wanted`, printing kn's progress lines; the object."""
    start = clock()
    last_message = ""
    failed_at: float | None = None
    while True:
        obj = get()
        elapsed = clock() - start
        status, reason, message = condition_state(obj, condition)
        if status == wanted:
            if done:
                print(f"{elapsed:7.3f}s {done}", file=out)
            return obj
        if message:
            print(f"{elapsed:7.3f}s {'...' if message == last_message else message}", file=out)
            last_message = message
        if status == "False" and error_window is not None:
            failed_at = elapsed if failed_at is None else failed_at
            if elapsed - failed_at >= error_window:
                raise NotReady(f"{what} is not ready: {_why(reason, message) or 'Ready=False'}")
        else:
            failed_at = None
        if elapsed >= timeout:
            why = _why(f"{condition}={status} {reason}".strip(), message) \
                if reason or message else ""
            state = "ready" if (condition, wanted) == ("Ready", "True") else f"{condition}={wanted}"
            raise NotReady(f"timeout: {what} not {state} after {timeout:g} seconds"
                           + (f": {why}" if why else ""))
        sleep(interval)


def wait_ready(
    get: Callable[[], dict[str, Any]],
    what: str,
    *,
    timeout: float,
    out: TextIO,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    error_window: float = ERROR_WINDOW,
    interval: float = POLL_INTERVAL,
) -> dict[str, Any]:
    """kn's wait for Ready=True, failing on a Ready=False that lasts `error_window`."""
    return wait_for(get, what, timeout=timeout, out=out, clock=clock, sleep=sleep,
                    error_window=error_window, interval=interval)


def _why(reason: str, message: str) -> str:
    """`Reason: message`, or whichever of the two there is."""
    return ": ".join(part for part in (reason, message) if part)


# --- `--wait` on the create verbs and apply --------------------------------------------------


def timeout_arg(text: str) -> float:
    """`--timeout` as argparse's type: a bad duration is a usage error before any request."""
    try:
        return parse_timeout(text)
    except errors.Invalid as failure:
        raise argparse.ArgumentTypeError(str(failure).removeprefix("--timeout ")) from None


def add_wait_flags(parser: argparse.ArgumentParser, timeout_flag: str = "--wait-timeout") -> None:
    """`--wait` and its timeout: kn's `--wait-timeout` on the kn-style create verbs (whose
    `--timeout` may be a delivery's), kubectl's `--timeout` on `apply`. Either takes a
    duration (`90s`, `2m`) or kn's bare seconds."""
    parser.add_argument("--wait", action="store_true",
                        help=f"wait until what was created is Ready (see {timeout_flag})")
    parser.add_argument(timeout_flag, dest="wait_timeout", type=timeout_arg,
                        default=DEFAULT_TIMEOUT, metavar="DURATION",
                        help=f"how long --wait waits, e.g. 30s or 2m (default {DEFAULT_TIMEOUT:g}s)")


def created(args: argparse.Namespace, api: Client, rtype: ResourceType, ns: str | None,
            name: str) -> None:
    """After a create or apply: with `--wait`, wait for Ready and print kubectl's
    `KIND/NAME condition met`; a kind without conditions (core Secret, ConfigMap) is skipped."""
    if not getattr(args, "wait", False) or not rtype.group:
        return
    wait_condition(api, rtype, ns, name, timeout=args.wait_timeout, error_window=ERROR_WINDOW)


def wait_condition(api: Client, rtype: ResourceType, ns: str | None, name: str, *,
                   timeout: float, condition: str = "Ready", wanted: str = "True",
                   error_window: float | None = None) -> dict[str, Any]:
    """Poll one object until its condition is `wanted`; prints `KIND/NAME condition met`.
    On the timeout: kubectl's "timed out waiting for the condition", with the last state."""
    def get() -> dict[str, Any]:
        return api.call("GET", rtype.path(ns, name))

    where = f"{rtype.plural}/{name}"
    try:
        obj = wait_for(get, where, timeout=timeout, out=io.StringIO(), condition=condition,
                       wanted=wanted, done="", error_window=error_window, sleep=pause)
    except NotReady as failure:
        text = str(failure)
        if not text.startswith("timeout: "):
            raise
        last = text.partition(" seconds")[2].removeprefix(": ")
        raise NotReady(f"timed out waiting for the condition {condition}={wanted} on {where}"
                       + (f"; last: {last}" if last else "")) from None
    print(f"{rtype.qualified}/{name} condition met", flush=True)
    return obj


pause: Callable[[float], None] = time.sleep
"""The sleep between polls, looked up at each wait so tests can act as the controller."""


# --- `ripple wait` -----------------------------------------------------------------------------


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    wait = commands.add_parser("wait", parents=parents,
                               help="wait for a condition on resources (kubectl wait)")
    wait.add_argument("kind", metavar="KIND[/NAME]", help="a kind, or KIND/NAME")
    wait.add_argument("names", nargs="*", metavar="NAME")
    wait.add_argument("--for", dest="wait_for", required=True, metavar="condition=TYPE[=STATUS]",
                      help="the condition, e.g. condition=Ready (STATUS defaults to True)")
    wait.add_argument("--timeout", type=timeout_arg, default=30.0, metavar="DURATION",
                      help="give up after this long, e.g. 60s or 2m (default 30s, as kubectl)")
    wait.add_argument("--all", action="store_true", help="every object of KIND in the namespace")
    common.add_namespace(wait)
    wait.set_defaults(handler=run_wait)


def run_wait(args: argparse.Namespace, api: Client) -> int:
    condition, wanted = parse_for(args.wait_for)
    kind, _, first = args.kind.partition("/")
    names = ([first] if first else []) + list(args.names)
    if args.all and names:
        raise errors.Invalid("give either NAME... or --all, not both")
    rtype = api.find_type(kind)
    ns = common.namespace(args)
    if args.all:
        names = [o["metadata"]["name"] for o in common.list_objects(api, rtype, ns)]
    if not names:
        raise errors.Invalid("wait needs KIND NAME..., KIND/NAME or KIND --all")
    deadline = time.monotonic() + args.timeout
    for name in names:
        left = max(deadline - time.monotonic(), 0.001)
        wait_condition(api, rtype, ns, name, timeout=left, condition=condition, wanted=wanted)
    return 0
