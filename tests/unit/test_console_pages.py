"""The console's token exchange and pages (pure): names are escaped text, figures have a
place in the DOM, and a token in the URL becomes a strict, HttpOnly cookie."""

from __future__ import annotations

import pytest

from controllers.platforms.local.console import auth, pages, topology


@pytest.mark.parametrize("query, exchanged", [
    (b"", None),
    (b"namespace=default", None),
    (b"token=", None),
    (b"token=abc", ("", "ripple-token=abc; HttpOnly; Path=/; SameSite=Strict")),
    (b"namespace=a&token=abc&target=trigger%3Ax",
     ("namespace=a&target=trigger%3Ax", "ripple-token=abc; HttpOnly; Path=/; SameSite=Strict")),
])
def test_exchange(query: bytes, exchanged: tuple[str, str] | None) -> None:
    assert auth.exchange(query) == exchanged


@pytest.mark.parametrize("query, token", [(b"", None), (b"token=", None), (b"a=1&token=x%2Fy", b"x/y")])
def test_in_query(query: bytes, token: bytes | None) -> None:
    assert auth.in_query(query) == token


@pytest.mark.parametrize("headers, token", [
    ([], None),
    ([(b"cookie", b"other=1")], None),
    ([(b"Cookie", b"other=1; ripple-token=abc")], b"abc"),
    ([(b"cookie", b"ripple-token=")], None),
    ([(b"cookie", b'\x00"bad')], None),
])
def test_presented(headers: list[tuple[bytes, bytes]], token: bytes | None) -> None:
    assert auth.presented(headers) == token


def test_topology_names_are_escaped_text_and_each_delivery_edge_has_a_figures_slot() -> None:
    graph = topology.build([
        {"kind": "Trigger", "metadata": {"name": "t<1>", "namespace": "default"},
         "spec": {"broker": "b&c", "subscriber": {"uri": "http://x/?a=<b>"}}},
        {"kind": "KafkaSource", "metadata": {"name": "k", "namespace": "default"},
         "spec": {"sink": {"ref": {"kind": "Broker", "name": "b&c"}}}},
    ])
    html = pages.topology_page(graph, {"Broker": "brokers", "Trigger": "triggers"})
    assert "t&lt;1&gt;" in html and "<1>" not in html and "b&amp;c" in html
    assert 'data-stats="default/trigger:t&lt;1&gt;"' in html
    # every edge names its ends, so a reader (or a test) can tell which one it is
    assert 'class="edge" data-from="Trigger/default/t&lt;1&gt;" data-to="url:http://x/?a=&lt;b&gt;"' in html
    assert 'class="edge" data-from="KafkaSource/default/k" data-to="Broker/default/b&amp;c"' in html
    assert 'data-stats="default/kafkasource:k"' in html
    assert 'href="/console/resources/triggers/default/t&lt;1&gt;"' in html
    assert "<canvas" not in html


@pytest.mark.parametrize("seconds, shown", [(0, "0s"), (59, "59s"), (60, "1m"), (7200, "2h"),
                                            (90000, "1d"), (-3, "0s")])
def test_age(seconds: float, shown: str) -> None:
    assert pages.age(seconds) == shown


def test_dead_letter_rows_carry_what_a_redrive_needs() -> None:
    entry = {"id": "1700000000000-0", "namespace": "ns", "target": "trigger:t", "code": 500,
             "destination": "http://s/", "attempts": 3,
             "event": {"id": "e-1", "type": "dev.x", "source": "/s", "specversion": "1.0"}}
    html = pages.dead_letter_table([entry], now=1700000060.0)
    assert 'data-namespace="ns" data-target="trigger:t" data-id="1700000000000-0"' in html
    assert "<td>1m</td>" in html and "e-1" in html


@pytest.mark.parametrize("path, query, headers, token", [
    ("/apis/x", b"", [(b"authorization", b"Bearer h")], b"h"),
    ("/apis/x", b"", [(b"cookie", b"ripple-token=c")], b"c"),  # the console's own fetches
    ("/apis/x", b"token=q", [], None),  # a token in a URL counts on /console paths only
    ("/console/", b"token=q", [], b"q"),
    ("/console/", b"token=q", [(b"authorization", b"Bearer h")], b"h"),
    ("/console/", b"", [], None),
])
def test_the_front_finds_the_token(path: str, query: bytes, headers: list[tuple[bytes, bytes]],
                                   token: bytes | None) -> None:
    from controllers.platforms.local import routing

    assert routing.presented({"path": path, "query_string": query, "headers": headers}) == token


def _entry(i: int) -> dict:
    return {"id": f"{1000 + i}-0", "target": "trigger:t", "namespace": "default",
            "event": {"id": f"e{i}"}, "code": 500, "destination": "", "attempts": 1}


@pytest.mark.parametrize("offset, shown, total, summary, links", [
    (0, 0, 0, "0 dead letters.", []),
    (0, 3, 3, "3 dead letters.", []),
    (0, 100, 250, "250 dead letters; 1–100 shown.", ["offset=100\">next"]),
    (100, 100, 250, "250 dead letters; 101–200 shown.", ["offset=0\">previous", "offset=200\">next"]),
    (200, 50, 250, "250 dead letters; 201–250 shown.", ["offset=100\">previous"]),
])
def test_dead_letters_page_shows_one_page_and_links_the_others(
        offset: int, shown: int, total: int, summary: str, links: list[str]) -> None:
    html = pages.dead_letters_page([_entry(i) for i in range(shown)], namespace="default",
                                   target="trigger:t", targets=["trigger:a"], offset=offset,
                                   total=total, now=2000)
    assert f'<p class="summary">{summary}</p>' in html
    assert html.count('<tr class="dead-letter"') == shown
    pager = html.partition('<p class="pager">')[2]
    assert [link for link in links if link not in pager] == []
    assert pager.count("<a ") == len(links)
    if links:
        assert "namespace=default&amp;target=trigger%3At&amp;offset=" in pager


def test_dead_letters_page_offers_the_targets_given_and_the_one_shown() -> None:
    html = pages.dead_letters_page([], namespace="default", target="trigger:b<", targets=["trigger:a"])
    assert '<option value="trigger:a">' in html and '<option value="trigger:b&lt;" selected>' in html
    assert html.count("<option") == 3  # every target, a, b<
