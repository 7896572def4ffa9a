"""Waiting for a condition: kn's `--wait` and kubectl's `ripple wait --for condition=...`.

Called by `service` (kn's create/update wait), by `wait` (`ripple wait KIND NAME`) and by the
`--wait` flag of `apply` and the kn-style `create` verbs (`add_wait_flags`, `wait_created`).
`wait_for` is kn's `pkg/wait/wait_for_ready.go`: poll until the object's observedGeneration
catches up and the condition has the wanted status, print each new message, fail on a
Ready=False that lasts the error window (kn) or only on the timeout (kubectl, window None).
The clock and the sleep are arguments, so the loop is table-tested without waiting.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from ripple import errors
from ripple.cli import output
from ripple.cli.client import Client, ResourceType

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


def add_wait_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true",
                        help="wait until what was created is Ready (see --timeout)")
    parser.add_argument("--timeout", default=f"{DEFAULT_TIMEOUT:g}s", metavar="DURATION",
                        help=f"how long --wait waits, e.g. 30s or 2m (default {DEFAULT_TIMEOUT:g}s)")


def wait_timeout(args: argparse.Namespace) -> float | None:
    """The seconds `--wait` waits, checked before anything is created; None without --wait."""
    return parse_timeout(args.timeout) if getattr(args, "wait", False) else None


def wait_created(api: Client, rtype: ResourceType, ns: str | None, name: str,
                 timeout: float, out: TextIO = sys.stdout) -> dict[str, Any]:
    """After a create: wait for Ready, and print kubectl's `KIND/NAME condition met`."""
    def get() -> dict[str, Any]:
        return api.call("GET", rtype.path(ns, name))

    obj = wait_for(get, f"{rtype.kind} '{name}'", timeout=timeout, out=out, done="")
    print(f"{rtype.qualified}/{name} condition met", file=out)
    return obj
