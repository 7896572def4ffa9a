"""C2: the console's pages with 1,000 Triggers, loaded in Debian's chromium (Playwright).

One Broker and 1,000 Triggers (as C1 applies them), all Ready, 50 of them with 20 dead
letters each; then each page is loaded `LOADS` times in a fresh tab of a browser signed in
with the API token, and its Navigation Timing read: `loadEventEnd` (the HTML, its
stylesheet and script, parsed and laid out) is the figure, the median over the loads;
`server_ms` is the wait for the first byte (request to response start). The
topology's first `/edgestats` answer (the figures of the page's 100 edges, which it polls
every 1.5 s) is reported beside it, and each page's HTML size. The baseline is the same
page with one Trigger (20 dead letters). Goal: every page under 300 ms.
"""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path
from typing import Any

from bench import harness

TRIGGERS = 1000
LOADS = 5
GOAL_MS = 300.0
CHROMIUM = "/usr/bin/chromium"
PAGES = {"topology": "/console/", "dead letters": "/console/deadletters",
         "trigger": "/console/resources/triggers/default/t-0",
         "broker": "/console/resources/brokers/default/default", "serving": "/console/serving"}


DEAD_TARGETS, DEAD_EACH = 50, 20
"""Dead letters in the mesh: `DEAD_EACH` in each of the first `DEAD_TARGETS` Triggers' stores
(the baseline: in t-0's), buried through the engine's own transaction (`Queues.bury`)."""


def _bury(ripple: harness.Ripple, names: list[str], each: int) -> None:
    import asyncio
    import concurrent.futures

    import redis.asyncio as aioredis

    import time

    from channels import deadletters, locations
    from channels.queues import Queues
    from ripple import cloudevents as ce
    from ripple.api.dead_letter_bounds import Bounds

    bounds = Bounds(max_entries=1000, retention=7 * 86_400.0)

    async def bury() -> None:
        client = aioredis.Redis.from_url(ripple.redis_url)
        queues = Queues(client)
        for name in names:
            where = locations.of_trigger("default", "default", name)
            for i in range(each):
                record = ce.to_record(ce.CloudEvent({"specversion": "1.0", "id": f"{name}-dead-{i}",
                                                     "source": "/bench", "type": "bench.dead",
                                                     "datacontenttype": "application/json"}, b'{"n":1}'))
                entry_id = await client.xadd(where.stream, dict(record.items()))
                assert isinstance(entry_id, bytes)
                entry = deadletters.entry(record, errors={"knativeerrorcode": "500",
                                                          "knativeerrordest": "http://127.0.0.1:9/"},
                                          reason="refused", attempts=3, target=where.key)
                await queues.bury(where.stream, entry_id, deadletters.of(where, bounds), entry,
                                  last_error=b'{"code":500}', now=time.time())
        await client.aclose()
    # Playwright's sync API runs an event loop in this thread: bury from another.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, bury()).result()


def _apply(ripple: harness.Ripple, path: Path, count: int) -> None:
    subprocess.run([harness.RIPPLE, "--server", ripple.url, "apply", "-f", str(path)],
                   check=True, capture_output=True)
    harness.wait_until(lambda: ripple.ready_triggers() >= count, timeout=180, interval=0.1)


def _signed_in(browser: Any, ripple: harness.Ripple) -> Any:
    """A browser context holding the console's cookie: the console is behind the API token
    (issue #15), and a page loaded without it is the 401 page, not the console."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{ripple.url}/console/?token={ripple.token}", wait_until="load")
    if not page.title().startswith("Topology"):
        raise RuntimeError("the console did not take the API token: " + page.title())
    page.close()
    return context


def _measure(context: Any, url: str) -> dict[str, float]:
    loads, servers, edges, sizes = [], [], [], []
    for _ in range(LOADS):
        page = context.new_page()
        response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            raise RuntimeError(f"{url} answered {response.status if response else 'nothing'}")
        sizes.append(len(response.body()))
        timing = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                               " return [n.responseStart - n.requestStart, n.loadEventEnd]; }")
        if page.locator("svg#topology").count():
            page.wait_for_function("() => performance.getEntriesByType('resource')"
                                   ".some(e => e.name.includes('/edgestats') && e.responseEnd > 0)")
            edges.append(page.evaluate("() => performance.getEntriesByType('resource')"
                                       ".find(e => e.name.includes('/edgestats')).duration"))
        loads.append(float(timing[1]))
        servers.append(float(timing[0]))
        page.close()
    out = {"load_ms": round(statistics.median(loads), 1), "max_ms": round(max(loads), 1),
           "server_ms": round(statistics.median(servers), 1),
           "html_kb": round(max(sizes) / 1024, 1)}
    if edges:
        out["edgestats_ms"] = round(statistics.median(edges), 1)
    return out


def run(duration: float = 0.0, log: Any = print) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    row: dict[str, Any] = {"id": "C2", "name": "console pages, 1,000 Triggers", "unit": "ms",
                           "goal": f"< {GOAL_MS:.0f} ms", "baseline_is": "1 Trigger, same run"}
    with harness.running(lambda: harness.App("sink")) as (sink,):
        with harness.running(lambda: harness.Ripple(harness.BROKER)) as (ripple,), \
                sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            context = _signed_in(browser, ripple)
            one = ripple.tmp / "one.yaml"
            one.write_text(harness.trigger("t-0", sink.url, type_="bench.t0"))
            _apply(ripple, one, 1)
            _bury(ripple, ["t-0"], DEAD_EACH)
            baseline = {name: _measure(context, ripple.url + path) for name, path in PAGES.items()}
            many = ripple.tmp / "many.yaml"
            many.write_text("".join(harness.trigger(f"t-{i}", sink.url, type_=f"bench.t{i}")
                                    for i in range(1, TRIGGERS)))
            _apply(ripple, many, TRIGGERS)
            _bury(ripple, [f"t-{i}" for i in range(1, DEAD_TARGETS)], DEAD_EACH)
            figures = {name: _measure(context, ripple.url + path) for name, path in PAGES.items()}
            browser.close()
    worst = max(f["load_ms"] for f in figures.values())
    base = max(b["load_ms"] for b in baseline.values())
    row.update(figure=worst, baseline=base, ratio=worst / base if base else None, met=worst < GOAL_MS,
               extra="; ".join(f"{n} {f['load_ms']} ms (server {f['server_ms']}, {f['html_kb']} kB)"
                               for n, f in figures.items())
               + f"; topology's first /edgestats {figures['topology'].get('edgestats_ms')} ms",
               details={"figures": figures, "baseline": baseline})
    log(f"C2: {row['extra']} (1 Trigger: {base} ms at most)")
    return row
