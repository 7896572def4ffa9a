"""`ripple event trace ID [--source S] [-o json]`: every hop of one event, and of its
replies, as a timeline.

Registered under `ripple event` by `ripple.cli.commands.event`. Reads the trace document
of `GET /apis/ripple.dev/v1/traces?id=ID[&source=S]` (`ripple.traces.build`) and prints it;
the rendering is pure and table-tested.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any
from urllib.parse import urlencode

from ripple import traces
from ripple.cli.client import Client
from ripple.cli.commands import common

INDENT = "  "
GUTTER = " " * 14


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: list[argparse.ArgumentParser]) -> None:
    trace = verbs.add_parser("trace", parents=parents,
                             help="show every hop of one event: accepted, matched, attempts, replies")
    trace.add_argument("id", metavar="ID", help="the event's id")
    trace.add_argument("--source", help="the event's source, when several events share the id")
    common.add_output(trace, "json")
    trace.set_defaults(handler=run_trace)


def clock(moment: float | None) -> str:
    """`HH:MM:SS.mmm` in UTC."""
    if moment is None:
        return "-" * 12
    return time.strftime("%H:%M:%S", time.gmtime(moment)) + f".{int(moment * 1000) % 1000:03d}"


def _where(label: str) -> str:
    """`broker:ns/b` -> `broker ns/b`; `Trigger/ns/t` -> `Trigger ns/t`."""
    if ":" in label:
        kind, _, rest = label.partition(":")
        return f"{kind} {rest}"
    kind, _, rest = label.partition("/")
    return f"{kind} {rest}" if rest else label


def _flow(step: dict[str, Any]) -> str:
    flow = step.get("flow")
    return f" ({flow['kind']} {flow['name']}, {flow['step']})" if flow else ""


def _answer(step: dict[str, Any]) -> str:
    latency = step.get("latency")
    took = f" in {latency * 1000:.1f} ms" if isinstance(latency, (int, float)) else ""
    if step.get("status") is None:
        return f"no answer{took} ({step.get('error') or 'unknown error'})"
    return f"{step['status']}{took}"


def render_step(step: dict[str, Any]) -> list[str]:
    if step.get("hop") == traces.ACCEPTED:
        lines = [f"{clock(step.get('accepted_at', step.get('at')))}  accepted   "
                 f"{_where(step.get('log', ''))}{_flow(step)}"]
        matched = ", ".join(step.get("matched") or []) or "none"
        text = f"{GUTTER}matched    {matched}"
        if step.get("not_matched"):
            text += f"; did not match: {', '.join(step['not_matched'])}"
        return [*lines, text]
    outcome = traces.OUTCOMES.get(step.get("outcome", ""), step.get("outcome", ""))
    if step.get("outcome") == "retry" and step.get("delay") is not None:
        outcome += f" in {step['delay']:g} s"
    if step.get("reply"):
        outcome += f" with {step['reply'].get('id', '')}"
    phase = {"reply": " (its reply)", "dead-letter": " (dead-letter sink)"}.get(step.get("phase", ""), "")
    return [f"{clock(step.get('at'))}  attempt {step.get('attempt', '?'):<2} "
            f"{_where(step.get('target', ''))}{_flow(step)}{phase} -> {step.get('url', '')}",
            f"{GUTTER}{_answer(step)}: {outcome}"]


def render(document: dict[str, Any], depth: int = 0) -> list[str]:
    """The timeline of one trace document, replies indented under the event they answer."""
    pad = INDENT * depth
    title = "Event" if depth == 0 else "Reply"
    lines = [f"{pad}{title} {document.get('id')}  (source {document.get('source')}, "
             f"type {document.get('type') or '-'})  {document.get('outcome')}"]
    for step in document.get("hops", []):
        lines += [pad + INDENT + line for line in render_step(step)]
    for reply in document.get("replies", []):
        lines += render(reply, depth + 1)
    return lines


def run_trace(args: argparse.Namespace, api: Client) -> int:
    query = {"id": args.id, **({"source": args.source} if args.source else {})}
    document = api.call("GET", "/apis/ripple.dev/v1/traces?" + urlencode(query))
    if args.output == "json":
        print(json.dumps(document, indent=2))
    else:
        print("\n".join(render(document)))
    return 0
