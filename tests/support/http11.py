"""A raw HTTP/1.1 client for the serving tests: exact bytes out, status/headers/body back.

The function host speaks its own small HTTP/1.1 (`serving.wire`); testing it with a
client that writes the bytes itself checks the wire, not a library's tolerance of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

EVENT_HEADERS = {"ce-specversion": "1.0", "ce-id": "e-1", "ce-source": "/tests",
                 "ce-type": "dev.ripple.test", "content-type": "application/json"}


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def encode(method: str, target: str, headers: dict[str, str], body: bytes = b"",
           *, close: bool = True) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "host: test"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"content-length: {len(body)}")
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Answer(status, headers, body)


async def request(port: int, method: str = "POST", target: str = "/",
                  headers: dict[str, str] | None = None, body: bytes = b"",
                  timeout: float = 30.0) -> Answer:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(encode(method, target, headers or {}, body))
        return await asyncio.wait_for(read_answer(reader), timeout)
    finally:
        writer.close()


async def event(port: int, data: Any = None, **headers: str) -> Answer:
    merged = {**EVENT_HEADERS, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return await request(port, headers=merged, body=json.dumps(data).encode())
