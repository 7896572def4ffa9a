"""Pure formatting for the CLI: kn-style tables, ages, condition summaries, json and yaml.

Called by the `get`, `describe`, `broker`, `trigger` and `event` commands. Nothing here
does I/O or reads the clock: `now` is an argument, so every function is table-tested.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ripple.cli import jsonpath, sinks

Obj = dict[str, Any]
Column = tuple[str, Callable[[Obj, datetime], str]]

# kn's tabwriter pads columns with three spaces.
GAP = "   "


def parse_time(stamp: str | None) -> datetime | None:
    """An RFC 3339 timestamp, or None when absent or unreadable."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)  # 3.11 reads a trailing Z
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def human_duration(seconds: float) -> str:
    """Kubernetes' HumanDuration, which kn prints as AGE: 5s, 3m20s, 2h, 4d5h, 2y3d."""
    secs = int(seconds)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    minutes, hours, days = secs // 60, secs // 3600, secs // 86400
    if minutes < 10:
        return f"{minutes}m{secs % 60}s" if secs % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:
        return f"{days // 365}y{days % 365}d" if days % 365 else f"{days // 365}y"
    return f"{days // 365}y"


def age(stamp: str | None, now: datetime) -> str:
    moment = parse_time(stamp)
    return human_duration((now - moment).total_seconds()) if moment else ""


def conditions(obj: Obj) -> list[Obj]:
    found = (obj.get("status") or {}).get("conditions") or []
    return [c for c in found if isinstance(c, dict)]


def condition(obj: Obj, kind: str) -> Obj | None:
    return next((c for c in conditions(obj) if c.get("type") == kind), None)


def conditions_summary(obj: Obj) -> str:
    """kn's CONDITIONS column: `2 OK / 3`."""
    found = conditions(obj)
    if not found:
        return ""
    ok = sum(1 for c in found if c.get("status") == "True")
    return f"{ok} OK / {len(found)}"


def ready(obj: Obj) -> str:
    found = condition(obj, "Ready")
    return str(found.get("status", "Unknown")) if found else "Unknown"


def reason(obj: Obj) -> str:
    """The REASON column: only a Ready condition that is not True has one worth showing."""
    found = condition(obj, "Ready")
    if not found or found.get("status") == "True":
        return ""
    return str(found.get("reason") or "")


def url_of(obj: Obj) -> str:
    status = obj.get("status") or {}
    return str((status.get("address") or {}).get("url") or status.get("url") or "")


def sink_of(field: str) -> Callable[[Obj, datetime], str]:
    """A getter printing a Destination at `spec.<field>` the way kn does."""

    def get(obj: Obj, _now: datetime) -> str:
        ns = obj.get("metadata", {}).get("namespace", "")
        return sinks.format_destination((obj.get("spec") or {}).get(field), ns)

    return get


def spec_of(*path: str) -> Callable[[Obj, datetime], str]:
    def get(obj: Obj, _now: datetime) -> str:
        value: Any = obj.get("spec") or {}
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return "" if value is None else str(value)

    return get


def label_of(key: str) -> Callable[[Obj, datetime], str]:
    return lambda obj, _now: str((obj.get("metadata", {}).get("labels") or {}).get(key, ""))


NAME: Column = ("NAME", lambda o, _n: str(o.get("metadata", {}).get("name", "")))
URL: Column = ("URL", lambda o, _n: url_of(o))
AGE: Column = ("AGE", lambda o, now: age(o.get("metadata", {}).get("creationTimestamp"), now))
STATUS: list[Column] = [
    ("CONDITIONS", lambda o, _n: conditions_summary(o)),
    ("READY", lambda o, _n: ready(o)),
    ("REASON", lambda o, _n: reason(o)),
]

# kn's list columns, read from knative/client's printers; kinds not here get a default.
COLUMNS: dict[str, list[Column]] = {
    "Trigger": [NAME, ("BROKER", spec_of("broker")), ("SINK", sink_of("subscriber")), AGE],
    "PingSource": [NAME, ("SCHEDULE", spec_of("schedule")), ("SINK", sink_of("sink")), AGE],
    "GitHubSource": [NAME, ("SINK", sink_of("sink")), ("WEBHOOK", lambda o, _n: _status_of(o, "webhookUrl")), AGE],
    "GitLabSource": [NAME, ("SINK", sink_of("sink")), ("WEBHOOK", lambda o, _n: _status_of(o, "webhookUrl")), AGE],
    "Subscription": [
        NAME,
        ("CHANNEL", spec_of("channel", "name")),
        ("SUBSCRIBER", sink_of("subscriber")),
        ("REPLY", sink_of("reply")),
        ("DEAD-LETTER-SINK", lambda o, _n: _dead_letter(o)),
        AGE,
    ],
    "Service": [NAME, URL, ("LATEST", lambda o, _n: _status_of(o, "latestReadyRevisionName")), AGE],
    "Revision": [
        NAME,
        ("SERVICE", label_of("serving.knative.dev/service")),
        ("TRAFFIC", lambda o, _n: annotation_of(o, REVISION_TRAFFIC)),
        ("TAGS", lambda o, _n: annotation_of(o, REVISION_TAGS)),
        ("GENERATION", label_of("serving.knative.dev/configurationGeneration")),
        AGE,
    ],
}
# kn's `route list` prints only these (no CONDITIONS or REASON).
COMPLETE_COLUMNS: dict[str, list[Column]] = {
    "Route": [NAME, ("URL", lambda o, _n: _status_of(o, "url")),
              ("READY", lambda o, _n: ready(o))],
}
# What `ripple revision list` writes on the Revisions it prints (kn's temporary
# annotations, from the Service's status.traffic); a plain `get` leaves them empty.
REVISION_TRAFFIC = "client.knative.dev/traffic"
REVISION_TAGS = "client.knative.dev/tags"
ADDRESSABLE = {"Broker", "Channel", "InMemoryChannel", "Sequence", "Parallel", "Route"}
SOURCES = {"GitHubSource", "GitLabSource", "KafkaSource", "ApiServerSource", "ContainerSource"}


def _status_of(obj: Obj, key: str) -> str:
    return str((obj.get("status") or {}).get(key) or "")


def _dead_letter(obj: Obj) -> str:
    delivery = (obj.get("spec") or {}).get("delivery") or {}
    ns = obj.get("metadata", {}).get("namespace", "")
    return sinks.format_destination(delivery.get("deadLetterSink"), ns)


def annotation_of(obj: Obj, key: str) -> str:
    return str((obj.get("metadata", {}).get("annotations") or {}).get(key, ""))


def _filters_summary(obj: Obj) -> str:
    """A Trigger's filters in one cell: `type=x,source=y` or `filters: 2 expressions`."""
    spec = obj.get("spec") or {}
    if spec.get("filters"):
        return f"filters: {len(spec['filters'])} expression(s)"
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(attributes.items()))


# `-o wide`: columns appended after a kind's usual ones (before CONDITIONS/READY/REASON).
# Adding one is one line here, e.g. the store's backlog for Triggers:
#     WIDE_COLUMNS["Trigger"].append(("BACKLOG", lambda o, _n: stats_of(o, "backlog")))
# Data that lives outside the object is put on it by the command before printing, through
# the per-kind hooks in `ripple.cli.commands.common.WIDE_ENRICHERS`.
WIDE_COLUMNS: dict[str, list[Column]] = {
    "Broker": [("CLASS", lambda o, _n: annotation_of(o, "eventing.knative.dev/broker.class"))],
    "Trigger": [
        ("FILTER", lambda o, _n: _filters_summary(o)),
        ("SUBSCRIBER-URI", lambda o, _n: _status_of(o, "subscriberUri")),
    ],
    "Subscription": [("SUBSCRIBER-URI", lambda o, _n: _physical(o, "subscriberUri"))],
    "Service": [("READY-REVISION", lambda o, _n: _status_of(o, "latestReadyRevisionName")),
                ("CREATED-REVISION", lambda o, _n: _status_of(o, "latestCreatedRevisionName"))],
}
DELIVERY_STATS = "rippleDeliveryStats"
"""Where `-o wide` puts a target's figures from the operations API on a listed object."""


def _delivery_stat(obj: Obj, key: str) -> str:
    return str((obj.get(DELIVERY_STATS) or {}).get(key, ""))


WIDE_COLUMNS["Trigger"].append(("BACKLOG", lambda o, _n: _delivery_stat(o, "backlog")))
WIDE_COLUMNS["Subscription"].append(("BACKLOG", lambda o, _n: _delivery_stat(o, "backlog")))
WIDE_ALL: list[Column] = [
    ("GENERATION", lambda o, _n: str(o.get("metadata", {}).get("generation", ""))),
    ("OBSERVED", lambda o, _n: str((o.get("status") or {}).get("observedGeneration", ""))),
]
"""Columns every kind gets under `-o wide`, after its own wide ones."""


def _physical(obj: Obj, key: str) -> str:
    return str(((obj.get("status") or {}).get("physicalSubscription") or {}).get(key) or "")


def columns_for(kind: str, items: Sequence[Obj] = (), *, wide: bool = False) -> list[Column]:
    """The columns `get` prints for a kind; `wide` adds `WIDE_COLUMNS` and `WIDE_ALL`."""
    base = _base_columns(kind, items)
    if not wide:
        return base
    status = [c for c in base if c in STATUS]
    head = [c for c in base if c not in STATUS]
    return head + WIDE_COLUMNS.get(kind, []) + WIDE_ALL + status


def _base_columns(kind: str, items: Sequence[Obj]) -> list[Column]:
    """The columns `get` prints for a kind; anything with an address gets a URL column."""
    if kind in COMPLETE_COLUMNS:
        return COMPLETE_COLUMNS[kind]
    if kind in COLUMNS:
        head = COLUMNS[kind]
    elif kind in SOURCES:
        head = [NAME, ("SINK", sink_of("sink")), AGE]
    elif kind in ADDRESSABLE or any(url_of(item) for item in items):
        head = [NAME, URL, AGE]
    else:
        head = [NAME, AGE]
    return head + STATUS


def table_rows(
    items: Sequence[Obj], kind: str, now: datetime, *, all_namespaces: bool = False,
    wide: bool = False,
) -> tuple[list[str], list[list[str]]]:
    """Headers and cells for a list of objects of one kind."""
    columns = columns_for(kind, items, wide=wide)
    headers = [title for title, _ in columns]
    rows = [[get(item, now) for _, get in columns] for item in items]
    if all_namespaces:
        headers.insert(0, "NAMESPACE")
        for item, row in zip(items, rows):
            row.insert(0, str(item.get("metadata", {}).get("namespace", "")))
    return headers, rows


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, no trailing spaces, like Go's tabwriter as kn uses it."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    lines = []
    for row in [list(headers), *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append(GAP.join(cells).rstrip())
    return "\n".join(lines)


def as_list(items: Sequence[Obj]) -> Obj:
    """What `-o json|yaml` prints for several objects: kubectl's List."""
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": list(items),
        "metadata": {"resourceVersion": ""},
    }


# --- `-o`: which formats there are -------------------------------------------------------

LIST_FORMATS = ("json", "yaml", "name", "wide")
TEMPLATE_FORMATS = ("jsonpath",)


def parse_format(text: str, plain: Sequence[str] = LIST_FORMATS) -> str:
    """Check an `-o` value: one of `plain`, or `jsonpath=TEMPLATE` (checked here, so a bad
    template fails before any request). Raises ValueError with the one-line reason."""
    name, sep, template = text.partition("=")
    supported = ", ".join([*plain, "jsonpath=TEMPLATE"])
    if not sep and text in plain:
        return text
    if name in TEMPLATE_FORMATS and sep:
        if not template:
            raise ValueError(f"{name}= needs a template, e.g. {name}='{{.metadata.name}}'")
        try:
            jsonpath.parse(template)
        except jsonpath.JsonPathError as failure:
            raise ValueError(str(failure)) from None
        return text
    if name in ("go-template", "go-template-file", "template", "templatefile",
                "jsonpath-file", "jsonpath-as-json", "custom-columns", "custom-columns-file"):
        raise ValueError(f"{name} is not supported; Ripple prints {supported} "
                         f"(the jsonpath subset: {jsonpath.SUPPORTED})")
    raise ValueError(f"unknown output format {text!r}; Ripple prints {supported}")


def render_jsonpath(fmt: str, obj: Any) -> str:
    """`-o jsonpath=TEMPLATE` applied to one object or a List, as kubectl does."""
    return jsonpath.render(fmt.partition("=")[2], obj)


def dump(obj: Any, fmt: str) -> str:
    """`-o json` or `-o yaml`, without a trailing newline."""
    if fmt == "json":
        return json.dumps(obj, indent=2)
    import yaml  # only `-o yaml` pays for the import

    return str(yaml.safe_dump(obj, sort_keys=False, default_flow_style=False)).rstrip("\n")
