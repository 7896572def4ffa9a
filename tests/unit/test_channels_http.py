"""The receivers' shared HTTP pieces (`channels.http`): the bounded body read.

Found by the R4 fuzz check: the limit counted only the body, and uvicorn's httptools
parser bounds no header, so an 8 MiB `ce-*` header made an 8 MiB event past the 4 MiB limit.
"""

from __future__ import annotations

from typing import Any

import pytest

from channels import http
from ripple import errors

LIMIT = 1024


def receiver(*chunks: bytes) -> Any:
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return receive


async def test_a_body_within_the_limit_is_read_whole() -> None:
    body = await http.read_body({"ce-id": "1"}, receiver(b"a" * 500, b"b" * 500), LIMIT)
    assert body == b"a" * 500 + b"b" * 500


@pytest.mark.parametrize(("headers", "chunks", "words"), [
    ({"ce-x": "x" * LIMIT}, [b""], "request headers of"),
    ({"x" * LIMIT: "1"}, [b""], "request headers of"),
    ({"content-length": str(LIMIT + 1)}, [b""], "request body of"),
    ({"ce-x": "x" * 600, "content-length": "600"}, [b"y" * 600], "request body of 600 bytes"),
    ({"ce-x": "x" * 600}, [b"y" * 300, b"y" * 300], "request body is over"),
])
async def test_headers_and_body_together_are_bounded(headers: dict[str, str],
                                                     chunks: list[bytes], words: str) -> None:
    with pytest.raises(errors.PayloadTooLarge) as raised:
        await http.read_body(headers, receiver(*chunks), LIMIT)
    assert words in str(raised.value) and f"limit of {LIMIT}" in str(raised.value)
