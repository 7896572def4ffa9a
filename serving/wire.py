"""HTTP/1.1 on asyncio streams, as little of it as a function replica needs.

Called by `serving.hosting` for every connection. Why not uvicorn or aiohttp: P5's budget
(a cold request answered within 3x `python -c pass`, about 30 ms) leaves no room for
aiohttp's ~200 ms import, and a replica forked from the zygote answers its first request
in a few ms on stdlib asyncio alone. What is here: request line and headers, a body by
Content-Length or chunked, keep-alive (HTTP/1.1 default, `Connection: close`, HTTP/1.0),
and one rendered response per request. Limits answer 4xx rather than read unbounded input.
"""

from __future__ import annotations

import asyncio
import dataclasses
from http import HTTPStatus

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class Message:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


def parse_head(head: bytes) -> Message:
    """The request line and headers (without the blank line); names lower-cased."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # latin-1 decodes every byte; kept for clarity of intent
        raise BadRequest(400, "undecodable request head") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        key = name.lower()
        value = value.strip()
        # Repeated headers fold into one comma-separated value (RFC 9110 5.3).
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return Message(parts[0], parts[1], parts[2], headers)


async def read_request(reader: asyncio.StreamReader) -> Message | None:
    """The next request on a connection, or None when the client closed it cleanly."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as partial:
        if not partial.partial.strip():
            return None
        raise BadRequest(400, "connection closed inside the request head") from None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "request head too large") from None
    message = parse_head(head[:-4].lstrip(b"\r\n"))
    if "chunked" in message.headers.get("transfer-encoding", "").lower():
        message.body = await _read_chunked(reader)
        return message
    length_text = message.headers.get("content-length", "0") or "0"
    if not length_text.isdigit():
        raise BadRequest(400, "content-length is not a number")
    length = int(length_text)
    if length > MAX_BODY:
        raise BadRequest(413, f"body over {MAX_BODY} bytes")
    if length:
        try:
            message.body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            raise BadRequest(400, "connection closed inside the body") from None
    return message


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                length = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest(400, "malformed chunk size") from None
            if length == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers are dropped
                return b"".join(chunks)
            size += length
            if size > MAX_BODY:
                raise BadRequest(413, f"body over {MAX_BODY} bytes")
            chunks.append(await reader.readexactly(length))
            await reader.readexactly(2)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        raise BadRequest(400, "malformed chunked body") from None


def render(status: int, headers: dict[str, str], body: bytes, *, keep_alive: bool) -> bytes:
    """One response: status line, the given headers, Content-Length, Connection."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers.items()
              if name.lower() not in ("content-length", "connection", "transfer-encoding")]
    lines.append(f"content-length: {len(body)}")
    if not keep_alive:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body
