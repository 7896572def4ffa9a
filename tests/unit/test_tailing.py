"""The live tail's refusals (`broker.tailing.Tail`): answered before any Redis read.

Found by the R4 fuzz check: a POST got a 405 without `Allow` whose message ("use GET")
named neither the method nor the rule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from broker.tailing import Tail


async def answer(method: str, path: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    tail = Tail(None, lambda ns, name: "stream" if (ns, name) == ("default", "b") else None,  # type: ignore[arg-type]
                channels=lambda ns, name: "chan" if (ns, name) == ("default", "c") else None)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await tail({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, json.loads(sent[1]["body"])


async def test_a_method_other_than_get_is_405_with_allow() -> None:
    status, headers, body = await answer("POST", "/tail/default/b")
    assert (status, headers["allow"], body["code"]) == (405, "GET", 405)
    assert "method POST is not allowed" in body["message"]


@pytest.mark.parametrize("path", ["/tail/default/nope", "/tail/default", "/tail/a/b/c",
                                  "/tail/default/channels/b", "/tail/default/brokers/c",
                                  "/tail/default/channels/c/x"])
async def test_an_unknown_broker_is_404_naming_it(path: str) -> None:
    status, _, body = await answer("GET", path)
    assert (status, body["code"]) == (404, 404)
    assert path.removeprefix("/tail/").strip("/") in body["message"]


@pytest.mark.parametrize("path, stream", [
    ("/tail/default/b", "stream"), ("/tail/default/brokers/b", "stream"),
    ("/tail/default/channels/c", "chan"), ("/tail/default/channels/b", None),
    ("/tail/default/subscriptions/c", None)])
def test_brokers_and_channels_resolve_to_their_logs(path: str, stream: str | None) -> None:
    # issue #16: `event tail` followed only brokers; channels are logs of the same records.
    tail = Tail(None, lambda ns, name: "stream" if (ns, name) == ("default", "b") else None,  # type: ignore[arg-type]
                channels=lambda ns, name: "chan" if (ns, name) == ("default", "c") else None)
    assert tail._stream([p for p in path.removeprefix("/tail/").split("/") if p]) == stream
