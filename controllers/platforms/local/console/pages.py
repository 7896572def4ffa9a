"""The console's HTML, from plain data (pure): the topology as SVG, a resource's page, the
dead-letter browser, trace search and serving. Every name and figure is text in the DOM.

`page` wraps a body in `templates/layout.html`; the live parts (edge figures, redrive,
purge, trace search) are `static/console.js`, which reads the operations API.
"""

from __future__ import annotations

import json
import string
import time
from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import quote

import yaml

from controllers.platforms.local.console import topology
from controllers.platforms.local.console.topology import Graph, Node

ROW = 30
NODE_W, NODE_H = 190, 22
COLUMN_X = (10, 300, 540, 1060)
WIDTH = COLUMN_X[-1] + NODE_W + 250  # a subscriber's URL may run past its box
TOP = 8

_LAYOUT = string.Template(
    resources.files(__package__).joinpath("templates/layout.html").read_text(encoding="utf-8"))


def page(title: str, body: str, *, active: str = "") -> str:
    current = ' aria-current="page"'
    nav = "".join(
        f'<a href="{href}"{current if key == active else ""}>{label}</a>'
        for key, href, label in (("topology", "/console/", "Topology"),
                                 ("deadletters", "/console/deadletters", "Dead letters"),
                                 ("trace", "/console/trace", "Trace"),
                                 ("serving", "/console/serving", "Serving")))
    return _LAYOUT.substitute(title=escape(title), nav=nav, body=body)


def resource_href(plurals: Mapping[str, str], node: Node) -> str | None:
    plural = plurals.get(node.kind)
    if plural is None:
        return None
    return f"/console/resources/{plural}/{escape(node.namespace)}/{escape(node.name)}"


def topology_svg(graph: Graph, plurals: Mapping[str, str]) -> str:
    height = TOP + max(graph.height, 1) * ROW + 10
    parts = [f'<svg id="topology" role="img" aria-label="topology" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">']
    for edge in graph.edges:
        a, b = graph.nodes[edge.source], graph.nodes[edge.target]
        x1, y1 = COLUMN_X[a.column] + NODE_W, _middle(graph.rows[a.id])
        x2, y2 = COLUMN_X[b.column], _middle(graph.rows[b.id])
        if b.column <= a.column:  # back to a broker: enter it from the right
            x2 += NODE_W
        bend = max(40, abs(x2 - x1) // 2)
        parts.append(f'<path class="edge" data-from="{escape(edge.source)}" data-to="{escape(edge.target)}" '
                     f'd="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"/>')
        if edge.stats:  # the figures open the target's dead letters
            namespace, _, target = edge.stats.partition("/")
            parts.append(f'<a href="/console/deadletters?namespace={quote(namespace)}&amp;target={quote(target)}">'
                         f'<text class="stats" data-stats="{escape(edge.stats)}" x="{x1 + 6}" '
                         f'y="{y1 - 4}">…</text></a>')
    for node in graph.nodes.values():
        x, y = COLUMN_X[node.column], TOP + graph.rows[node.id] * ROW
        title = f"{node.kind} {node.namespace}/{node.name}" if node.kind != "URL" else node.name
        box = (f'<g class="node {escape(node.kind.lower())}" data-node="{escape(node.id)}">'
               f'<title>{escape(title)}</title>'
               f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="4"/>'
               f'<text x="{x + 6}" y="{y + 15}"><tspan class="kind">{escape(_short(node.kind))}</tspan> '
               f'{escape(node.label if node.column == topology.SUBSCRIBERS else _clip(node.label, 27))}</text></g>')
        href = resource_href(plurals, node)
        parts.append(f'<a href="{href}">{box}</a>' if href else box)
    parts.append("</svg>")
    return "".join(parts)


def _middle(row: int) -> int:
    return TOP + row * ROW + NODE_H // 2


SHORT = {"Broker": "broker", "Trigger": "trigger", "Subscription": "sub", "Channel": "channel",
         "InMemoryChannel": "imc", "Service": "ksvc", "Sequence": "seq", "Parallel": "par",
         "PingSource": "ping", "GitHubSource": "github", "GitLabSource": "gitlab",
         "KafkaSource": "kafka", "URL": "url"}


def _short(kind: str) -> str:
    return SHORT.get(kind, kind.lower())


def _clip(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _pager(offset: int, total: int, namespace: str) -> str:
    if total <= topology.PAGE:
        return ""
    where = f"namespace={escape(namespace)}&amp;" if namespace else ""
    links = []
    if offset > 0:
        links.append(f'<a href="/console/?{where}offset={max(0, offset - topology.PAGE)}">previous</a>')
    if offset + topology.PAGE < total:
        links.append(f'<a href="/console/?{where}offset={offset + topology.PAGE}">next</a>')
    last = min(total, offset + topology.PAGE)
    return (f'<p class="pager">Triggers and subscriptions {offset + 1}–{last} of {total}: '
            + " · ".join(links) + "</p>")


def topology_page(graph: Graph, plurals: Mapping[str, str], *, offset: int = 0, total: int = 0,
                  namespace: str = "") -> str:
    heads = "".join(f'<span style="left:{x}px">{t}</span>'
                    for x, t in zip(COLUMN_X, topology.COLUMN_TITLES))
    body = ('<h1>Topology</h1><p class="summary">Sources send to brokers and channels; '
            'triggers and subscriptions deliver to subscribers. Each delivery edge shows '
            'attempts per second, the share that failed, p99 latency, backlog and dead letters, '
            'updated every 1.5 s. <span id="updated"></span></p>' + _pager(offset, total, namespace))
    if not graph.nodes:
        return page("Topology", body + "<p>No brokers, channels, triggers or sources yet: "
                    "<code>ripple apply -f</code> some.</p>", active="topology")
    body += (f'<div class="columns" style="width:{WIDTH}px">{heads}</div>'
             f'<div class="graph">{topology_svg(graph, plurals)}</div>')
    return page("Topology", body, active="topology")


def _conditions(obj: Mapping[str, Any]) -> str:
    conditions = (obj.get("status") or {}).get("conditions") or []
    if not conditions:
        return "<p>No conditions reported yet.</p>"
    rows = "".join(
        f'<tr class="status-{escape(str(c.get("status", "")).lower())}"><td>{escape(str(c.get("type", "")))}</td>'
        f'<td>{escape(str(c.get("status", "")))}</td><td>{escape(str(c.get("reason", "") or ""))}</td>'
        f'<td>{escape(str(c.get("message", "") or ""))}</td>'
        f'<td>{escape(str(c.get("lastTransitionTime", "") or ""))}</td></tr>'
        for c in conditions)
    return ("<table class=\"conditions\"><thead><tr><th>Type</th><th>Status</th><th>Reason</th>"
            f"<th>Message</th><th>Since</th></tr></thead><tbody>{rows}</tbody></table>")


def _yaml(value: Any) -> str:
    return escape(yaml.safe_dump(value, sort_keys=False, default_flow_style=False).rstrip())


def resource_page(obj: Mapping[str, Any], *, stats: Mapping[str, Any] | None,
                  dead_letters: Sequence[Mapping[str, Any]], recent: Sequence[Mapping[str, Any]],
                  scope: str | None, now: float | None = None) -> str:
    meta = obj.get("metadata") or {}
    kind, name, namespace = str(obj.get("kind", "")), str(meta.get("name", "")), str(meta.get("namespace", ""))
    body = [f'<h1><span class="kind">{escape(kind)}</span> {escape(namespace)}/{escape(name)}</h1>',
            "<h2>Conditions</h2>", _conditions(obj)]
    status = {k: v for k, v in (obj.get("status") or {}).items() if k != "conditions"}
    if stats is not None:
        error = stats.get("lastError")
        body.append(
            "<h2>Delivery</h2><dl class=\"stats\">"
            + "".join(f"<dt>{label}</dt><dd>{escape(str(stats.get(key, '')))}</dd>"
                      for key, label in (("backlog", "Backlog"), ("inFlight", "In flight"),
                                         ("retries", "Retries"), ("deadLetters", "Dead letters"),
                                         ("deadLetteredTotal", "Dead-lettered, ever")))
            + f"<dt>Last error</dt><dd>{escape(json.dumps(error)) if error else 'none'}</dd></dl>")
    if scope is not None:
        body.append(f'<h2>Recent dead letters</h2>'
                    f'<p><a href="/console/deadletters?namespace={escape(namespace)}&amp;target={escape(scope)}">'
                    f'Browse, redrive or purge them</a></p>')
        body.append(dead_letter_table(dead_letters[-20:], now=now, actions=False))
    if recent:
        body.append("<h2>Recent events</h2>" + _events_table(recent))
    body.append(f"<h2>Spec</h2><pre>{_yaml(obj.get('spec') or {})}</pre>")
    if status:
        body.append(f"<h2>Status</h2><pre>{_yaml(status)}</pre>")
    return page(f"{kind} {name}", "".join(body))


def _events_table(events: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{escape(str(e.get('id', '')))}</td><td>{escape(str(e.get('type', '')))}</td>"
        f"<td>{escape(str(e.get('source', '')))}</td><td>{escape(str(e.get('time', '') or ''))}</td></tr>"
        for e in events)
    return ("<table class=\"events\"><thead><tr><th>Id</th><th>Type</th><th>Source</th><th>Time</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _entry_time(entry: Mapping[str, Any]) -> float:
    """The store id's milliseconds, the time the event was dead-lettered."""
    try:
        return int(str(entry["id"]).split("-")[0]) / 1000
    except (KeyError, ValueError):
        return 0.0


def dead_letter_table(entries: Sequence[Mapping[str, Any]], *, now: float | None = None,
                      actions: bool = True) -> str:
    if not entries:
        return '<p class="empty">No dead letters.</p>'
    now = time.time() if now is None else now
    rows = []
    for e in entries:
        event = e.get("event") or {}
        ns, target, store_id = str(e.get("namespace", "")), str(e.get("target", "")), str(e.get("id", ""))
        data = f'data-namespace="{escape(ns)}" data-target="{escape(target)}" data-id="{escape(store_id)}"'
        buttons = (f'<td class="actions"><button type="button" class="redrive" {data}>Redrive</button> '
                   f'<button type="button" class="purge" {data}>Purge</button></td>') if actions else ""
        rows.append(
            f'<tr class="dead-letter" data-id="{escape(store_id)}">'
            f"<td><details {data}><summary>{escape(str(event.get('id', '')))}</summary>"
            '<pre class="event"></pre></details></td>'
            f"<td>{escape(target)}</td><td>{escape(str(event.get('type', '')))}</td>"
            f"<td>{escape(str(event.get('source', '')))}</td><td>{escape(str(e.get('code', '')))}</td>"
            f"<td>{escape(str(e.get('destination', '')))}</td><td>{escape(str(e.get('attempts', '')))}</td>"
            f"<td>{age(now - _entry_time(e))}</td>{buttons}</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("Event id", "Target", "Type", "Source", "Code",
                                             "Destination", "Attempts", "Age"))
    return (f'<table class="dead-letters"><thead><tr>{head}{"<th></th>" if actions else ""}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


DEAD_LETTERS_PAGE = 100
"""Dead letters one page of the browser shows (the rest are a link away): the page's weight
stays the same however many there are."""


def dead_letters_page(entries: Sequence[Mapping[str, Any]], *, namespace: str, target: str,
                      targets: Sequence[str], offset: int = 0, total: int | None = None,
                      now: float | None = None) -> str:
    """`targets`: those to choose from (the ones whose store ever held an entry); `total`:
    how many entries the scope holds, of which `entries` are those from `offset`."""
    total = len(entries) if total is None else total
    choices = sorted({*targets, target} - {""})
    options = "".join(f'<option value="{escape(t)}"{" selected" if t == target else ""}>{escape(t)}</option>'
                      for t in ["", *choices])
    scope = (f'data-namespace="{escape(namespace)}" data-target="{escape(target)}"')
    if entries and (offset > 0 or len(entries) < total):
        summary = f"{total} dead letters; {offset + 1}–{offset + len(entries)} shown."
    else:
        summary = f"{total} dead letters."
    body = (
        '<h1>Dead letters</h1>'
        '<p>Events that ran out of retries (or whose dead-letter sink failed too), kept in '
        "Ripple's dead-letter store. <strong>Redrive</strong> sends one again through the "
        'normal engine, with retries; it leaves the store once delivered.</p>'
        f'<form method="get" action="/console/deadletters" class="filter">'
        f'<label>Namespace <input name="namespace" value="{escape(namespace)}"></label> '
        f'<label>Target <select name="target">{options}</select></label> '
        '<button type="submit">Show</button></form>'
        f'<p class="bulk"><button type="button" id="redrive-all" {scope}>Redrive all</button> '
        f'<button type="button" id="purge-all" {scope}>Purge all</button>'
        f' <small>(every dead letter of {"this target" if target else "the namespace"}, '
        'on every page)</small></p>'
        '<p id="status" role="status" aria-live="polite"></p>'
        f'<p class="summary">{summary}</p>'
        + dead_letter_table(entries, now=now)
        + _dead_letters_pager(offset, len(entries), total, namespace, target))
    return page("Dead letters", body, active="deadletters")


def _dead_letters_pager(offset: int, shown: int, total: int, namespace: str, target: str) -> str:
    if offset == 0 and shown >= total:
        return ""
    where = f"namespace={quote(namespace)}" + (f"&amp;target={quote(target)}" if target else "")
    base, links = f"/console/deadletters?{where}&amp;offset=", []
    if offset > 0:
        links.append(f'<a href="{base}{max(0, offset - DEAD_LETTERS_PAGE)}">previous</a>')
    if offset + shown < total:
        links.append(f'<a href="{base}{offset + DEAD_LETTERS_PAGE}">next</a>')
    return '<p class="pager">' + " · ".join(links) + "</p>"


def trace_page(event_id: str, source: str) -> str:
    body = (
        "<h1>Trace an event</h1><p>Every hop of one event: accepted at the ingress, the "
        "Triggers that matched and those that did not, each delivery attempt, dead letters "
        "and replies.</p>"
        '<form id="trace-form" method="get" action="/console/trace" class="filter">'
        f'<label>Event id <input name="id" id="trace-id" value="{escape(event_id)}" required></label> '
        f'<label>Source (optional) <input name="source" id="trace-source" value="{escape(source)}"></label> '
        '<button type="submit">Trace</button></form>'
        '<p id="status" role="status" aria-live="polite"></p><div id="trace"></div>')
    return page("Trace", body, active="trace")


def serving_page(services: Sequence[Mapping[str, Any]], revisions: Sequence[Mapping[str, Any]]) -> str:
    if not services and not revisions:
        return page("Serving", "<h1>Serving</h1><p>No Knative Services.</p>", active="serving")
    by_service: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for rev in revisions:
        meta = rev.get("metadata") or {}
        owner = (meta.get("labels") or {}).get("serving.knative.dev/service") \
            or (meta.get("labels") or {}).get("serving.knative.dev/configuration", "")
        by_service.setdefault((str(meta.get("namespace", "")), str(owner)), []).append(rev)
    out = ["<h1>Serving</h1>"]
    for svc in services:
        meta, status = svc.get("metadata") or {}, svc.get("status") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        traffic = status.get("traffic") or []
        split = "".join(
            f"<tr><td>{escape(str(t.get('revisionName', '') or ('latest' if t.get('latestRevision') else '')))}</td>"
            f"<td>{escape(str(t.get('percent', 0)))}%</td><td>{escape(str(t.get('tag', '') or ''))}</td></tr>"
            for t in traffic)
        revs = "".join(
            f"<tr><td><a href=\"/console/resources/revisions/{escape(ns)}/"
            f"{escape(str((r.get('metadata') or {}).get('name', '')))}\">"
            f"{escape(str((r.get('metadata') or {}).get('name', '')))}</a></td>"
            f"<td>{escape(str((r.get('status') or {}).get('actualReplicas', 0)))}</td>"
            f"<td>{escape(str((r.get('status') or {}).get('desiredReplicas', 0)))}</td>"
            f"<td>{escape(_ready(r))}</td></tr>"
            for r in sorted(by_service.get((ns, name), []),
                            key=lambda r: str((r.get("metadata") or {}).get("name", ""))))
        out.append(
            f'<section class="service"><h2><a href="/console/resources/services/{escape(ns)}/{escape(name)}">'
            f"{escape(ns)}/{escape(name)}</a> <small>{escape(str(status.get('url', '')))}</small></h2>"
            "<h3>Traffic</h3><table class=\"traffic\"><thead><tr><th>Revision</th><th>Percent</th>"
            f"<th>Tag</th></tr></thead><tbody>{split}</tbody></table>"
            "<h3>Revisions</h3><table class=\"revisions\"><thead><tr><th>Revision</th><th>Replicas</th>"
            f"<th>Desired</th><th>Ready</th></tr></thead><tbody>{revs}</tbody></table></section>")
    return page("Serving", "".join(out), active="serving")


def _ready(obj: Mapping[str, Any]) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return str(c.get("status", ""))
    return "Unknown"
