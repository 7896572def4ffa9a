"""The results store: a Trigger sends it every `dev.ripple.ci.result`; `GET` shows them.

An HTTP function (so it answers browsers as well as events):
- `POST` a CloudEvent (binary or structured): the run is stored, keyed by its id, so a
  redelivered result replaces itself rather than adding a run. Answers 204.
- `GET` (`?n=20`): the last N runs, newest first, as `{"runs": [...]}` with
  `Accept: application/json`, or as an HTML page for a browser.

Runs live in `runs.json` in the CI state dir (written whole and renamed into place, under a
file lock), so they survive restarts of `ripple up` and of this function.
"""

import fcntl
import html
import json
import os
from contextlib import contextmanager

from cloudevents.v1.http import from_http

import ciflow

KEEP = 200
DEFAULT_N = 20


def main(request):
    if request.method == "POST":
        event = from_http(request.headers, request.body)
        if event["type"] != ciflow.RESULT:
            return Answer(400, {"error": f"expected {ciflow.RESULT}, got {event['type']}"})
        record(ciflow.data_of(event))
        return None
    if request.method not in ("GET", "HEAD"):
        return Answer(405, {"error": "use GET, or POST a dev.ripple.ci.result"})
    try:
        n = max(1, int(request.query.get("n", DEFAULT_N)))
    except ValueError:
        return Answer(400, {"error": "n: must be a whole number"})
    runs = latest(n)
    if wants_html(request.headers.get("accept", "")):
        return Answer(200, page(runs), {"content-type": "text/html; charset=utf-8"})
    return {"runs": runs}


main.ripple_http = True  # what @serving.http sets: the handler takes the HTTP request


def wants_html(accept):
    """A browser's Accept (text/html before any JSON type) gets the page; others JSON."""
    at_html, at_json = accept.find("text/html"), accept.find("json")
    return at_html >= 0 and (at_json < 0 or at_html < at_json)


@contextmanager
def locked():
    directory = ciflow.state_dir()
    with open(directory / "runs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield directory / "runs.json"


def load(path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def record(run):
    with locked() as path:
        runs = load(path)
        run["stored_at"] = ciflow.now()
        runs[run["run"]] = run
        kept = sorted(runs.values(), key=lambda r: r.get("received", 0))[-KEEP:]
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({r["run"]: r for r in kept}))
        os.replace(temporary, path)


def latest(n):
    with locked() as path:
        runs = list(load(path).values())
    runs.sort(key=lambda r: r.get("received", 0), reverse=True)
    return runs[:n]


def Answer(status, body, headers=None):
    from serving.functions import Response

    return Response(body=body, status=status, headers=headers or {})


def page(runs):
    rows = []
    for run in runs:
        steps = " → ".join(f"{s['name']} ({s['status']}, {s.get('revision') or '-'})"
                           for s in run.get("steps", []))
        rows.append(
            f"<tr class={run['status']}><td>{html.escape(run['status'])}</td>"
            f"<td><code>{html.escape(run['commit'][:10])}</code></td>"
            f"<td>{html.escape(run['ref'])}</td><td>{run.get('duration_s', '')}</td>"
            f"<td>{html.escape(steps)}</td><td>{html.escape(run.get('reason', ''))}</td></tr>")
    body = "\n".join(rows) or "<tr><td colspan=6>no runs yet: push a commit</td></tr>"
    return f"""<!doctype html><html><head><meta charset=utf-8><title>Ripple CI</title>
<meta http-equiv=refresh content=5>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.3em .8em;text-align:left}}
.passed td:first-child{{color:green}}.failed td:first-child,.error td:first-child{{color:#c00}}</style>
</head><body><h1>Ripple CI: the last {len(runs)} runs</h1>
<table><tr><th>status</th><th>commit</th><th>ref</th><th>duration (s)</th><th>steps</th><th>reason</th></tr>
{body}</table><p>JSON: the same URL with <code>Accept: application/json</code>.</p></body></html>"""
