"""`ripple event display`: a sink that prints every CloudEvent it receives.

Ripple's answer to Knative's `event_display` sample service, for the quickstart and for
debugging a trigger: point a subscriber at it and watch. Answers 202 to every valid
event and 400 (naming the field) to anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ripple import cloudevents as ce
from ripple import errors

REQUIRED = ("specversion", "type", "source", "id")


def format_event(event: ce.CloudEvent) -> str:
    """The event in the layout of Knative's event_display."""
    attributes = event.attributes
    lines = ["☁️  cloudevents.Event", "Context Attributes,"]
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
    return "\n".join(lines)


def run_display(args: argparse.Namespace, _api: object) -> int:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                events = ce.from_http(headers, body)
                status, answer = 202, b""
                for event in events:
                    print(format_event(event), flush=True)
            except errors.Invalid as exc:
                status, answer = 400, str(exc).encode()
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 512  # the default of 5 refuses a broker's burst of connections

    server = Server((args.host, args.port), Handler)
    print(f"Displaying CloudEvents sent to http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
