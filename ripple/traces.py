"""Per-event traces: the hop records the data plane writes, and the timeline built from them.

The data plane (`channels.tracing`) records, for each event, JSON hop records in Redis
(`keys.trace_bucket`: one hash per minute and shard, a field per event id): where it was
accepted and which queues its log's fan-out copied it to (`accepted`), and every delivery
attempt (`attempt`). The trace endpoint (`controllers.platforms.local.operations`) reads
the hops of an event and of its replies, recursively, adds what only the resources know
(the Triggers that did not match, the Sequence or Parallel a channel or Subscription
belongs to), and `build` turns them into one document, which `ripple event trace` prints
as a timeline or as JSON and the console shows. Pure: no I/O, the clock is in the records.

A hop record (`Hop`):
- every hop: `hop` (`accepted` | `attempt`), `at` (epoch seconds), `id`, `source`, `type`;
- `accepted`: `log` (`broker:NS/NAME` | `channel:NS/NAME`), `entry` (the log's entry id;
  its milliseconds are when the ingress appended it), `matched` (the Triggers or
  Subscriptions the fan-out copied it to);
- `attempt`: `target` (`Trigger/NS/NAME`, `Subscription/NS/NAME`, a source), `phase`
  (`subscriber` | `reply` | `dead-letter`), `url`, `attempt` (1 for the first), `status`
  (None: no answer), `latency` (seconds), `outcome` (`OUTCOMES`), `delay` (a retry's, in
  seconds), `error`, and `reply` ({`id`, `source`, `type`}) when the answer was an event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

ACCEPTED, ATTEMPT = "accepted", "attempt"
OUTCOMES = {
    "delivered": "delivered",
    "replied": "delivered, replied",
    "retry": "failed, will retry",
    "dead-letter": "failed for good, to the dead-letter sink",
    "dead-lettered": "dead-lettered",
    "dropped": "failed for good, dropped",
}
MAX_EVENTS = 64
"""Events (the first and its replies, recursively) one trace document follows at most."""

EventKey = tuple[str, str]
"""(id, source): what identifies one CloudEvent."""


class Hop(TypedDict, total=False):
    hop: str
    at: float
    id: str
    source: str
    type: str
    log: str
    entry: str
    matched: list[str]
    target: str
    phase: str
    url: str
    attempt: int
    status: int | None
    latency: float
    outcome: str
    delay: float
    error: str
    reply: dict[str, str]


@dataclass(frozen=True)
class Flow:
    """What a channel or Subscription is part of: `Sequence seq, step 1`."""

    kind: str
    name: str
    step: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}, {self.step}"


@dataclass
class Resources:
    """What the resources add to a trace: per broker log (`broker:NS/NAME`) its Triggers,
    and per channel or Subscription (`channel:NS/NAME`, `Subscription/NS/NAME`) its flow."""

    triggers: dict[str, list[str]] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)


_FLOW_NAME = re.compile(r"^(?P<owner>.+)-kn-(?P<kind>sequence|parallel)(?:-(?P<filter>filter-)?(?P<i>\d+))?$")


def flow_of(name: str, owner_kind: str | None, owner_name: str | None) -> Flow | None:
    """The flow step a channel or Subscription named by Knative's flow controllers is
    (`s-kn-sequence-1`, `p-kn-parallel-filter-0`, `p-kn-parallel`), given its controlling
    owner. None for anything else."""
    match = _FLOW_NAME.match(name)
    if match is None or owner_kind not in ("Sequence", "Parallel") or owner_name is None \
            or match["owner"] != owner_name:
        return None
    index = match["i"]
    if owner_kind == "Sequence" and index is not None:
        return Flow("Sequence", owner_name, f"step {index}")
    if owner_kind == "Parallel":
        if index is None:
            return Flow("Parallel", owner_name, "ingress")
        return Flow("Parallel", owner_name, f"branch {index} {'filter' if match['filter'] else 'subscriber'}")
    return None


def replies_of(hops: list[Hop]) -> list[EventKey]:
    """The replies these hops answered with, in order, each once."""
    found: list[EventKey] = []
    for hop in hops:
        reply = hop.get("reply")
        if reply and (key := (reply.get("id", ""), reply.get("source", ""))) not in found:
            found.append(key)
    return found


def build(key: EventKey, hops: Mapping[EventKey, list[Hop]], resources: Resources) -> dict[str, Any]:
    """The trace document of the event `key`, following its replies through `hops` (the
    records of every event read, by event). A reply that is the event itself (a Sequence
    step that answers with the same id and source) adds no branch: its hops are already
    the event's."""
    seen: set[EventKey] = set()
    return _document(key, hops, resources, seen)


def _document(key: EventKey, hops: Mapping[EventKey, list[Hop]], resources: Resources,
              seen: set[EventKey]) -> dict[str, Any]:
    seen.add(key)
    own = sorted(hops.get(key, []), key=lambda h: h.get("at", 0.0))
    steps = [_step(h, resources) for h in own]
    replies = []
    for reply in replies_of(own):
        if reply not in seen and len(seen) < MAX_EVENTS:
            replies.append(_document(reply, hops, resources, seen))
    types = [h["type"] for h in own if h.get("type")]
    return {"id": key[0], "source": key[1], "type": types[0] if types else None,
            "outcome": outcome_of(own), "hops": steps, "replies": replies}


def _step(hop: Hop, resources: Resources) -> dict[str, Any]:
    step: dict[str, Any] = dict(hop)
    if hop.get("hop") == ACCEPTED:
        log = hop.get("log", "")
        if log in resources.triggers:
            matched = set(hop.get("matched", []))
            step["not_matched"] = sorted(t for t in resources.triggers[log] if t not in matched)
        if (entry := hop.get("entry")) and "-" in entry:
            step["accepted_at"] = int(entry.split("-")[0]) / 1000
    where = hop.get("log") or hop.get("target") or ""
    flow = resources.flows.get(where)
    if flow is not None:
        step["flow"] = {"kind": flow.kind, "name": flow.name, "step": flow.step}
    return step


def outcome_of(hops: list[Hop]) -> str:
    """The event's fate so far, from the last attempt of each target: `dead-lettered` if
    any target dead-lettered or dropped it, `pending` while one still retries (or no attempt
    was made), else `delivered`."""
    last: dict[str, str] = {}
    for hop in hops:
        if hop.get("hop") == ATTEMPT:
            last[hop.get("target", "")] = hop.get("outcome", "")
    if not last:
        return "pending"
    fates = set(last.values())
    if fates & {"dead-lettered", "dropped"}:
        return "dropped" if "dropped" in fates else "dead-lettered"
    if fates & {"retry", "dead-letter"}:
        return "pending"
    return "delivered"
