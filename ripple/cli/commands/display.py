"""`ripple event display`: a sink that prints every CloudEvent it receives, and may reply.

Ripple's answer to Knative's `event_display` sample service, for the quickstart and for
debugging a trigger: point a subscriber at it and watch. Each event is printed with the
request that carried it (`Request: POST /second`), so one display can serve every step of
a Sequence or every branch of a Parallel and still tell them apart. With `--reply TYPE` it
answers each event with a reply CloudEvent in binary mode (the same data, a new id, type
TYPE, source `/event-display/<path>`), which moves a Sequence on to its next step or a
Trigger's reply back into the Broker; without it, it answers 202 and no body. Anything
that is not a CloudEvent gets 400, naming the field.

Registered by `ripple.cli.commands.event`. Formatting and the reply are pure and
table-tested; the server is `http.server`, so the display has no dependency of its own.
The server and the CloudEvents codec are imported where they are used: every command of
the CLI imports this module (to register `display`), and only `display` needs them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import uuid
from typing import TYPE_CHECKING

from ripple import errors

if TYPE_CHECKING:
    from ripple import cloudevents as ce

REQUIRED = ("specversion", "type", "source", "id")
REPLY_SOURCE = "/event-display"
_PRINTING = threading.Lock()  # one block at a time: the server answers on many threads


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port, default=8081, help="default: 8081")
    parser.add_argument("--reply", metavar="TYPE", type=event_type,
                        help="answer each event with a CloudEvent of this type (same data, "
                             "a new id), e.g. to move a Sequence on to its next step")
    parser.set_defaults(handler=run_display)


def port(text: str) -> int:
    """`--port`: argparse reports a bad one in one line and exits 2."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: an integer from 0 to 65535")
    return number


def event_type(text: str) -> str:
    """`--reply`: a CloudEvent type is a non-empty string."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the reply's type must be a non-empty string")
    return text


def format_event(event: ce.CloudEvent, request: str | None = None,
                 reply: ce.CloudEvent | None = None) -> str:
    """The event in the layout of Knative's event_display; `request` is `METHOD PATH`."""
    attributes = event.attributes
    lines = ["☁️  cloudevents.Event"]
    if request:
        lines.append(f"Request: {request}")
    lines.append("Context Attributes,")
    known = REQUIRED + ("subject", "time", "dataschema", "datacontenttype")
    lines += [f"  {name}: {attributes[name]}" for name in known if name in attributes]
    extensions = sorted(k for k in attributes if k not in known)
    if extensions:
        lines.append("Extensions,")
        lines += [f"  {name}: {attributes[name]}" for name in extensions]
    if event.data is not None:
        lines.append("Data,")
        try:
            lines.append("  " + json.dumps(json.loads(event.data), indent=2).replace("\n", "\n  "))
        except ValueError:
            lines.append("  " + event.data.decode("utf-8", "replace"))
    if reply is not None:
        lines.append(f"Reply: type {reply.type}, id {reply.id}, source {reply.source}")
    return "\n".join(lines)


def make_reply(event: ce.CloudEvent, reply_type: str, path: str, reply_id: str) -> ce.CloudEvent:
    """The answer to `event` received on `path`: its data and content type, a new identity."""
    from ripple import cloudevents as ce

    step = path.split("?", 1)[0].rstrip("/")
    attributes: dict[str, object] = {
        "specversion": "1.0", "id": reply_id, "type": reply_type, "source": REPLY_SOURCE + step,
    }
    if "datacontenttype" in event.attributes:
        attributes["datacontenttype"] = event.attributes["datacontenttype"]
    return ce.CloudEvent(attributes, event.data)


def answer(headers: dict[str, str], body: bytes, method: str, path: str,
           reply_type: str | None) -> tuple[int, list[tuple[str, str]], bytes, list[str]]:
    """(status, headers, body, printed blocks) for one request: the display minus its socket."""
    from ripple import cloudevents as ce

    try:
        events = ce.from_http(headers, body)
    except errors.Invalid as exc:
        return 400, [], str(exc).encode(), []
    # one reply answers one event; a batch is printed and acknowledged
    reply = (make_reply(events[0], reply_type, path, str(uuid.uuid4()))
             if reply_type and len(events) == 1 else None)
    printed = [format_event(event, f"{method} {path}", reply) for event in events]
    if reply is None:
        return 202, [], b"", printed
    reply_headers, reply_body = ce.to_binary(reply)
    return 200, reply_headers, reply_body, printed


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_display(args: argparse.Namespace, _api: object) -> int:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    reply_type: str | None = args.reply

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, content, printed = answer(headers, body, "POST", self.path, reply_type)
            with _PRINTING:
                for block in printed:
                    print(block + "\n", flush=True)  # a blank line between two events
            self.send_response(status)
            for name, value in extra:
                self.send_header(name, value)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *_: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 512  # the default of 5 refuses a broker's burst of connections

    # a port that cannot be had raises OSError: `ripple.cli.main` says so in one line
    server = Server((args.host, args.port), Handler)
    replying = f", replying with type {reply_type}" if reply_type else ""
    print(f"Displaying CloudEvents sent to http://{args.host}:{args.port}/{replying}",
          file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
