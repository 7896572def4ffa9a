"""What a request becomes for the handler, and what the handler's return becomes on the wire.

Pure: called by `serving.hosting` once per request, table-tested without sockets.

In: an event function receives the `cloudevents` SDK's CloudEvent
(`cloudevents.v1.http.CloudEvent`, the type the SDK 1.x exported as
`cloudevents.http.CloudEvent`), decoded from binary or structured mode; a request that is
no CloudEvent gets 400 naming what is missing. An HTTP function receives a
`functions.Request`.

Out:

| the handler returns | the answer |
|---|---|
| a CloudEvent | 200, binary mode: `ce-*` headers, `content-type` from datacontenttype, data as body |
| a dict or list | 200, JSON body |
| bytes / str | 200, the body (`application/octet-stream` / `text/plain; charset=utf-8`) |
| `functions.Response` | its status and headers, its body converted by the rows above |
| None | 202 for an event (accepted, no reply), 204 for an HTTP function |

A CloudEvent's data is sent as is when it is bytes, UTF-8 when it is a str, JSON otherwise
(the SDK's default marshaller would JSON-quote a str even under `text/plain`). Header
values are percent-encoded as the CloudEvents HTTP binding asks.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from cloudevents.v1 import exceptions as ce_errors
from cloudevents.v1.abstract import CloudEvent as AnyCloudEvent
from cloudevents.v1.conversion import to_binary
from cloudevents.v1.http import CloudEvent, from_http

from serving import functions, wire

Answer = tuple[int, dict[str, str], bytes]

JSON = "application/json"
# Printable ASCII minus space, '"' and '%': what a ce- header value may carry as is.
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')

__all__ = ["CloudEvent", "answer_of", "argument_of", "error_answer"]


def argument_of(function: functions.Function, message: wire.Message) -> Any:
    """The handler's argument; `wire.BadRequest(400)` when an event function gets no event."""
    if function.is_http:
        path, _, query = message.target.partition("?")
        return functions.Request(message.method, path, query, message.headers, message.body)
    try:
        return from_http(message.headers, message.body)
    except ce_errors.GenericException as failure:
        raise wire.BadRequest(400, f"not a CloudEvent: {failure}") from None


def answer_of(result: Any, *, is_http: bool) -> Answer:
    if isinstance(result, functions.Response):
        _, headers, body = answer_of(result.body, is_http=is_http)
        return result.status, {**headers, **result.headers}, body
    if result is None:
        return (204 if is_http else 202), {}, b""
    if isinstance(result, AnyCloudEvent):
        return _binary(result)
    if isinstance(result, bytes | bytearray | memoryview):
        return 200, {"content-type": "application/octet-stream"}, bytes(result)
    if isinstance(result, str):
        return 200, {"content-type": "text/plain; charset=utf-8"}, result.encode()
    if isinstance(result, dict | list):
        return 200, {"content-type": JSON}, json.dumps(result).encode()
    raise TypeError(f"a handler returns a CloudEvent, dict, list, bytes, str, Response or None, "
                    f"not {type(result).__name__}")


def _binary(event: AnyCloudEvent) -> Answer:
    headers, body = to_binary(event, data_marshaller=_marshal)
    encoded = {name: quote(value, safe=_HEADER_SAFE) if name.startswith("ce-") else value
               for name, value in headers.items()}
    if "content-type" not in encoded and body and not isinstance(event.get_data(), bytes | str):
        encoded["content-type"] = JSON
    return 200, encoded, body if isinstance(body, bytes) else (body or "").encode()


def _marshal(data: Any) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return json.dumps(data).encode()


def error_answer(status: int, message: str) -> Answer:
    """The short body of every error the host answers itself: `{"error": message}`."""
    return status, {"content-type": JSON}, json.dumps({"error": message}).encode()
