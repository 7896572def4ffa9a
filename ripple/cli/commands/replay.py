"""`ripple event replay broker:NAME --since 10m [--until T] [--trigger NAME] [--type T]`:
deliver a Broker's retained events again, through its Triggers.

Registered under `ripple event` by `ripple.cli.commands.event`. The replay runs on the
server (`POST /apis/ripple.dev/v1/namespaces/{ns}/replays`, one progress line per page);
this command shows a progress bar on a terminal and plain lines otherwise, and Ctrl-C
closes the stream, which stops the replay between two pages: the command exits 130 with
one line saying so (`format_stopped`), and what was enqueued is delivered (see
`broker.replaying`). The formatting is pure and table-tested. `--since` and `--until` are
checked with the server's own parser (`ripple.api.eventing.replays`), imported when the
replay runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ripple import errors
from ripple.cli import sinks
from ripple.cli.client import Client
from ripple.cli.commands import common

BAR_WIDTH = 30


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: list[argparse.ArgumentParser]) -> None:
    replay = verbs.add_parser("replay", parents=parents,
                              help="deliver a Broker's retained events again through its Triggers")
    replay.add_argument("target", metavar="broker:NAME", help="the Broker whose log to replay")
    replay.add_argument("--since", required=True,
                        help="the oldest event: a duration before now (10m) or an RFC 3339 time")
    replay.add_argument("--until", help="the newest event (default: now); same forms as --since")
    replay.add_argument("--trigger", help="only through this Trigger (its filter still applies)")
    replay.add_argument("--type", help="only events of this CloudEvent type")
    common.add_namespace(replay)
    replay.set_defaults(handler=run_replay)


def format_bar(progress: dict[str, Any], width: int = BAR_WIDTH) -> str:
    """`[#####.....]  45%  120 replayed, 300 read` for one progress object."""
    fraction = min(1.0, max(0.0, float(progress.get("fraction") or 0.0)))
    filled = int(round(fraction * width))
    return (f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:3.0f}%  "
            f"{progress.get('replayed', 0)} replayed, {progress.get('scanned', 0)} read")


def format_summary(progress: dict[str, Any], since: float) -> str:
    """The last line: what was replayed, and a warning when the window starts before the log."""
    line = (f"Replay {progress.get('id', '?')}: {progress.get('replayed', 0)} event(s) enqueued "
            f"from {progress.get('scanned', 0)} read")
    oldest = progress.get("oldest")
    if isinstance(oldest, (int, float)) and oldest > since + 1:
        line += (f"; the log starts at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(oldest))}: "
                 "older events are past the Broker's retention")
    return line


def format_stopped(last: dict[str, Any]) -> str:
    """The line of a replay stopped by Ctrl-C. The server ends the replay at the page
    boundary after it sees the stream closed, so the last progress seen is a lower bound:
    the page under way may add to it (the server logs the exact count)."""
    if not last:
        return ("Replay stopped by Ctrl-C before its first progress: the events its first page "
                "enqueued are delivered; nothing more is enqueued")
    return (f"Replay {last.get('id', '')} stopped by Ctrl-C: the {last.get('replayed', 0)} event(s) "
            "enqueued so far, and those of the page under way, are delivered; nothing more is enqueued")


def run_replay(args: argparse.Namespace, api: Client) -> int:
    # Here, not at the top: importing it loads `ripple.api`, every kind, which no other
    # command of the CLI needs (tests/unit/test_cli_imports.py).
    from ripple.api.eventing import replays

    ns = common.namespace(args)
    sink = sinks.parse_sink(args.target, ns)
    if sink.ref is None or sink.ref.kind != "Broker":
        raise errors.Invalid(f"event replay reads a broker's log: give broker:NAME, not {args.target!r}")
    now = time.time()
    since = replays.parse_moment(args.since, now, "--since")  # refused here, before any request
    if args.until:
        replays.parse_moment(args.until, now, "--until")
    body = {"broker": sink.ref.name, "since": args.since, "until": args.until,
            "trigger": args.trigger, "type": args.type}
    tty = sys.stderr.isatty()
    last: dict[str, Any] = {}
    try:
        for line in api.stream_lines(f"/apis/ripple.dev/v1/namespaces/{sink.ref.namespace}/replays", body):
            if not line.strip():
                continue
            last = json.loads(line)
            if tty:
                print("\r" + format_bar(last), end="", file=sys.stderr, flush=True)
            elif not last.get("done"):
                print(format_bar(last), file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        if tty:
            print(file=sys.stderr)
        print(format_stopped(last), flush=True)
        return 130
    if tty:
        print(file=sys.stderr)
    if not last.get("done"):
        raise errors.RippleError("the replay's stream ended before it finished")
    print(format_summary(last, since), flush=True)
    return 0
