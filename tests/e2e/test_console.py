"""The console in a real browser: Playwright driving Debian's chromium (`make test` installs
it) against a real `ripple up`. The quickstart example's Broker, Trigger and subscriber show
in the topology with their live figures; a dead letter is redriven, and another purged, by
clicking; the screenshots under docs/ are the README's."""

from __future__ import annotations


import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.mesh import Mesh
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
QUICKSTART = ROOT / "manifests/examples/01-quickstart"
CHROMIUM = "/usr/bin/chromium"
DEAD_LETTERS = "/apis/ripple.dev/v1/namespaces/default/deadletters?target=trigger:hello-display"

KAFKA_SOURCE = """
---
apiVersion: sources.knative.dev/v1beta1
kind: KafkaSource
metadata: {{name: console-orders, namespace: default}}
spec:
  bootstrapServers: ["{bootstrap}"]
  topics: [console-orders]
  consumerGroup: console
  initialOffset: earliest
  sink: {{ref: {{apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}}}}
"""
"""A KafkaSource into the quickstart's Broker (its bootstrap server: a mock cluster's)."""


class Switch:
    """The quickstart's subscriber, answering 500 until it is fixed."""

    def __init__(self) -> None:
        self.fixed = False

    def __call__(self, _request: Any, _n: int) -> Answer:
        return Answer(202 if self.fixed else 500)


def quickstart(url: str) -> str:
    """The quickstart example, its subscriber at `url`, giving up after one retry."""
    docs = []
    for path in sorted(QUICKSTART.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "Trigger":
                doc["spec"]["subscriber"] = {"uri": url}
                doc["spec"]["delivery"] = {"retry": 1, "backoffPolicy": "linear", "backoffDelay": "PT0.05S"}
            if doc:
                docs.append(doc)
    return yaml.safe_dump_all(docs)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    assert shutil.which(CHROMIUM), "chromium is missing: `make test` installs it (apt-get install chromium)"
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def signed_in(mesh: Mesh, browser: Any, **options: Any) -> Any:
    """A page of a fresh browser context that opened the console with the API token once."""
    page = browser.new_context(**options).new_page()
    page.goto(f"{mesh.url}/console/?token={mesh.token}")
    return page


def dead_letter_ids(mesh: Mesh) -> list[str]:
    return [e["event"]["id"] for e in mesh.get(DEAD_LETTERS)["items"]]


def test_topology_then_redrive_and_purge_by_clicking(mesh: Mesh, browser: Any) -> None:
    subscriber = Switch()
    with RecordingSink(subscriber) as sink:
        mesh.apply(quickstart(sink.url + "/hello"))
        mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/hello-display")
        page = signed_in(mesh, browser, viewport={"width": 1400, "height": 240})
        graph = page.locator("svg#topology")

        def node(key: str) -> str:  # an SVG node's visible text
            return str(graph.locator(f'g.node[data-node="{key}"] > text').text_content())

        assert node("Broker/default/default") == "broker default"
        assert node("Trigger/default/hello-display") == "trigger hello-display"
        assert node(f"url:{sink.url}/hello") == f"url {sink.url}/hello"
        figures = graph.locator('text.stats[data-stats="default/trigger:hello-display"]')
        label = "document.querySelector('text.stats[data-stats=\"default/trigger:hello-display\"]')"
        # The live figures come from /edgestats, a rate from its second reading on.
        page.wait_for_function(f"() => /^[0-9]/.test({label}.textContent)")
        for event_id in ("console-1", "console-2"):
            assert mesh.send_event("/default/default", event_id, type="dev.example.hello") == 202
        wait_until(lambda: sorted(dead_letter_ids(mesh)) == ["console-1", "console-2"], timeout=30,
                   what="two dead letters")
        # The dead letters make the edge red.
        page.wait_for_function(f"() => {label}.classList.contains('failing')"
                               f" && {label}.textContent.endsWith('backlog 0 · dead 2')")
        shown = str(figures.text_content())
        assert "/s · err " in shown and " · p99 " in shown and shown.endswith("backlog 0 · dead 2"), shown
        page.screenshot(path=str(DOCS / "console-topology.png"))
        page.set_viewport_size({"width": 1400, "height": 420})

        page.click('a[href="/console/resources/triggers/default/hello-display"]')
        page.wait_for_selector("table.conditions")
        assert "Ready" in page.locator("table.conditions").inner_text()
        assert "console-1" in page.locator("table.dead-letters").inner_text()

        subscriber.fixed = True
        page.goto(mesh.url + "/console/deadletters?namespace=default&target=trigger:hello-display")
        rows = page.locator("tr.dead-letter")
        assert rows.count() == 2
        page.screenshot(path=str(DOCS / "console-dead-letters.png"))
        row = page.locator("tr.dead-letter", has_text="console-1")
        row.locator("summary").click()  # the whole event is read when its row opens
        event = row.locator("pre.event")
        wait_until(lambda: '"knativeerrorcode": "500"' in str(event.text_content()), what="the event's JSON")
        assert '"id": "console-1"' in str(event.text_content())
        row.locator("button.redrive").click()
        page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Redriven: 1')")
        assert page.locator("tr.dead-letter", has_text="console-1").count() == 0
        wait_until(lambda: any(r.ce.get("id") == "console-1" for r in sink.received[-3:]),
                   what="the redriven event at the fixed subscriber")
        wait_until(lambda: dead_letter_ids(mesh) == ["console-2"], what="only console-2 left")

        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("tr.dead-letter", has_text="console-2").locator("button.purge").click()
        page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Purged: 1')")
        assert dead_letter_ids(mesh) == []
        page.context.close()


def test_a_kafka_sources_edge_is_drawn_with_its_live_figures(mesh: Mesh, browser: Any) -> None:
    """A KafkaSource is drawn like the other sources: its node, its edge to its sink, and
    that edge's figures (its records delivered, from the source's own target)."""
    from tests.support.kafka import MockCluster

    with MockCluster() as cluster, RecordingSink(lambda _r, _n: Answer(202)) as sink:
        cluster.create_topic("console-orders", partitions=1)
        mesh.apply(quickstart(sink.url + "/hello") + KAFKA_SOURCE.format(bootstrap=cluster.bootstrap))
        try:
            drawn_with_figures(mesh, browser, cluster)
        finally:  # before the cluster goes: a source whose cluster is gone is slow to stop
            mesh.cli("delete", "kafkasource", "console-orders")


def drawn_with_figures(mesh: Mesh, browser: Any, cluster: Any) -> None:
    """The source's node, its edge to the Broker, and the edge's figures once records flow."""
    mesh.wait_ready("/apis/sources.knative.dev/v1beta1/namespaces/default/kafkasources/console-orders",
                    timeout=30)
    page = signed_in(mesh, browser, viewport={"width": 1400, "height": 400})
    graph = page.locator("svg#topology")
    source = "KafkaSource/default/console-orders"
    assert graph.locator(f'g.node[data-node="{source}"] > text').text_content() == "kafka console-orders"
    assert graph.locator(f'path.edge[data-from="{source}"][data-to="Broker/default/default"]').count() == 1
    label = "document.querySelector('text.stats[data-stats=\"default/kafkasource:console-orders\"]')"
    for i in range(3):
        cluster.produce("console-orders", b'{"order": %d}' % i, key=b"k", partition=0)
    # its records delivered to the Broker: a rate above zero, from the second reading on
    page.wait_for_function(f"() => /^[0-9.]+\\/s/.test({label}.textContent)"
                           f" && parseFloat({label}.textContent) > 0", timeout=30_000)
    shown = str(graph.locator('text.stats[data-stats="default/kafkasource:console-orders"]').text_content())
    assert " · p99 " in shown and shown.endswith("backlog 0"), shown
    page.context.close()



def test_the_token_once_in_the_url_becomes_a_strict_http_only_cookie(mesh: Mesh, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    assert page.goto(mesh.url + "/console/").status == 401  # no token, no console
    assert page.goto(mesh.url + "/console/?token=wrong").status == 401
    response = page.goto(f"{mesh.url}/console/deadletters?token={mesh.token}&namespace=default")
    assert response.status == 200
    assert "token" not in page.url and page.url.endswith("/console/deadletters?namespace=default")
    cookie = next(c for c in context.cookies() if c["name"] == "ripple-token")
    assert (cookie["value"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == \
        (mesh.token, True, "Strict", "/")
    assert page.evaluate("document.cookie") == ""  # no script can read it
    # The cookie carries the console's own calls to the API, and nothing else is needed.
    assert page.goto(mesh.url + "/console/serving").status == 200
    assert page.evaluate("fetch('/apis/ripple.dev/v1/edgestats').then(r => r.status)") == 200
    context.close()


def test_trace_search_and_serving_pages_render(mesh: Mesh, browser: Any) -> None:
    with RecordingSink(lambda _r, _n: Answer(202)) as sink:
        mesh.apply(quickstart(sink.url + "/hello"))
        mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/hello-display")
        wait_until(lambda: mesh.send_event("/default/default", "traced-1", type="dev.example.hello") == 202
                   and sink.received != [], timeout=30, what="the event at the subscriber")
    page = signed_in(mesh, browser)
    page.goto(mesh.url + "/console/trace")

    def search(event_id: str) -> str:
        page.fill("#trace-id", event_id)
        page.click("#trace-form button[type=submit]")
        page.wait_for_function("() => !document.getElementById('status').textContent.startsWith('Tracing')"
                               " && (document.getElementById('status').textContent.length > 0"
                               "     || document.querySelector('section.trace-event'))")
        assert f"id={event_id}" in page.url
        return page.locator("#status").inner_text()

    assert "no-such-event" in search("no-such-event")
    # The trace is written in batches: search until its delivery shows.
    wait_until(lambda: search("traced-1") == "" and " → 202" in page.locator("ol.hops").inner_text(),
               timeout=30, what="the traced event's delivery in the console")
    heading = page.locator("section.trace-event h2").first.inner_text()
    assert heading.startswith("traced-1 (dev.example.hello from "), heading
    hops = page.locator("ol.hops").first.inner_text()
    assert "accepted by" in hops and "hello-display" in hops, hops
    page.goto(mesh.url + "/console/serving")
    assert page.locator("h1").inner_text() == "Serving"
    page.context.close()
