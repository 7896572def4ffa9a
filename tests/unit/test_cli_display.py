"""`ripple event display`: what it prints for a request and what it answers (`--reply`)."""

from __future__ import annotations

import pytest

from ripple import cloudevents as ce
from ripple.cli.commands import display

BINARY = {"ce-specversion": "1.0", "ce-id": "e-1", "ce-type": "dev.example.order",
          "ce-source": "/shop", "ce-region": "eu", "content-type": "application/json"}


@pytest.mark.parametrize(("headers", "body", "method_path", "reply_type", "status", "lines", "reply"), [
    pytest.param(BINARY, b'{"n": 1}', ("POST", "/first"), None, 202,
                 ["☁️  cloudevents.Event", "Request: POST /first", "Context Attributes,",
                  "  specversion: 1.0", "  type: dev.example.order", "  source: /shop", "  id: e-1",
                  "  datacontenttype: application/json", "Extensions,", "  region: eu", "Data,",
                  "  {", '    "n": 1', "  }"],
                 None, id="no reply: 202, the request line printed"),
    pytest.param(BINARY, b'{"n": 1}', ("POST", "/second/"), "dev.example.step", 200,
                 None, {"ce-type": "dev.example.step", "ce-source": "/event-display/second",
                        "content-type": "application/json", "body": b'{"n": 1}'},
                 id="reply: same data and content type, the path in its source"),
    pytest.param(BINARY, b'{"n": 1}', ("POST", "/"), "dev.example.step", 200,
                 None, {"ce-type": "dev.example.step", "ce-source": "/event-display",
                        "content-type": "application/json", "body": b'{"n": 1}'},
                 id="reply on / names the display alone"),
    pytest.param({k: v for k, v in BINARY.items() if k != "content-type"}, b"", ("POST", "/x?a=1"),
                 "t", 200, None, {"ce-type": "t", "ce-source": "/event-display/x", "body": b""},
                 id="no data: an empty reply body and no content type"),
    pytest.param({"content-type": "application/json"}, b"{}", ("POST", "/"), "t", 400,
                 [], None, id="not a CloudEvent: 400 and nothing printed"),
])
def test_answer(headers: dict[str, str], body: bytes, method_path: tuple[str, str],
                reply_type: str | None, status: int, lines: list[str] | None,
                reply: dict[str, object] | None) -> None:
    got_status, reply_headers, reply_body, printed = display.answer(headers, body, *method_path, reply_type)
    assert got_status == status
    if lines is not None:
        assert printed == (["\n".join(lines)] if lines else [])
    if reply is None:
        assert reply_headers == [] and (status == 400 or reply_body == b"")
        return
    as_dict = dict(reply_headers)
    for name, value in reply.items():
        assert (reply_body if name == "body" else as_dict.get(name)) == value
    assert "content-type" in as_dict or "content-type" not in reply
    assert as_dict["ce-id"] not in ("", "e-1")  # a new id
    # the reply is a valid CloudEvent, and the display printed it
    (decoded,) = ce.from_http(as_dict, reply_body)
    assert printed[0].endswith(
        f"Reply: type {decoded.type}, id {decoded.id}, source {decoded.source}")


def test_every_reply_has_its_own_id() -> None:
    ids = {dict(display.answer(BINARY, b"{}", "POST", "/", "t")[1])["ce-id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_batch_is_printed_and_acknowledged_without_a_reply() -> None:
    batch = (b'[{"specversion": "1.0", "id": "1", "type": "t", "source": "/s"},'
             b' {"specversion": "1.0", "id": "2", "type": "t", "source": "/s"}]')
    status, headers, body, printed = display.answer(
        {"content-type": "application/cloudevents-batch+json"}, batch, "POST", "/", "r")
    assert (status, headers, body, len(printed)) == (202, [], b"", 2)
    assert all("Reply:" not in block for block in printed)
