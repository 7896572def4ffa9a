"""`ripple event send`, `tail` and `display`: put a CloudEvent in, watch events go by.

Registered by `ripple.cli.main`. `send` resolves a sink (kn syntax) to a URL with the
controller's resolver (`common.resolve_url`) and POSTs the event in binary mode (`ce-*`
headers), as kn-plugin-event does. `tail` follows `/tail/{namespace}/{broker}`, one JSON CloudEvent per line.
The header and line formatting is pure and table-tested.
"""

from __future__ import annotations

import argparse
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ripple import errors
from ripple.cli import output, sinks
from ripple.cli.client import Client, error_from
from ripple.cli.commands import common, display

RESERVED = {"specversion", "id", "type", "source", "time", "datacontenttype", "data"}
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
# CloudEvents HTTP binding: printable ASCII stays, except space, '"' and '%'.
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')
DATA_WIDTH = 60


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    event = commands.add_parser("event", help="send and watch CloudEvents")
    verbs = event.add_subparsers(dest="verb", required=True, metavar="VERB")

    send = verbs.add_parser("send", parents=parents, help="send one CloudEvent to a sink")
    send.add_argument("--to", required=True, help="broker:NAME, channel:NAME, ksvc:NAME or a URL")
    send.add_argument("--type", required=True, help="the CloudEvent type")
    send.add_argument("--source", required=True, help="the CloudEvent source")
    send.add_argument("--id", help="the CloudEvent id (default: a new UUID)")
    send.add_argument("--data", help="the payload: text, JSON, or @FILE")
    send.add_argument("--extension", action="append", metavar="NAME=VALUE",
                      help="a CloudEvent extension attribute; repeatable")
    send.add_argument("--content-type", help="default: application/json for JSON, else text/plain")
    common.add_namespace(send)
    send.set_defaults(handler=run_send)

    tail = verbs.add_parser("tail", parents=parents, help="print events as they enter a broker")
    tail.add_argument("target", metavar="broker:NAME", help="the broker to follow")
    common.add_namespace(tail)
    common.add_output(tail, "json")
    tail.set_defaults(handler=run_tail)

    show = verbs.add_parser("display", help="run a sink that prints every event it receives")
    display.add_arguments(show)


def read_data(value: str | None) -> bytes | None:
    """`--data`: the text itself, or a file's bytes for `@FILE`."""
    if value is None:
        return None
    if value.startswith("@"):
        try:
            with open(value[1:], "rb") as handle:
                return handle.read()
        except OSError as failure:
            raise errors.Invalid(f"--data {value}: {failure.strerror}") from None
    return value.encode()


def guess_content_type(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        json.loads(data)
        return "application/json"
    except UnicodeDecodeError:
        return "application/octet-stream"
    except ValueError:
        return "text/plain"


def binary_headers(
    attributes: dict[str, str], extensions: dict[str, str], content_type: str | None
) -> dict[str, str]:
    """HTTP headers of a binary-mode CloudEvent: `ce-<name>` per attribute, percent-encoded."""
    for name in extensions:
        if not _ATTRIBUTE_NAME.match(name):
            raise errors.Invalid(
                f"--extension {name}: names are lower-case letters and digits only"
            )
        if name in RESERVED:
            raise errors.Invalid(f"--extension {name}: a reserved attribute; use its own flag")
    every = {**attributes, **extensions}
    headers = {f"ce-{k}": quote(v, safe=_HEADER_SAFE) for k, v in every.items()}
    if content_type:
        headers["content-type"] = content_type
    return headers


def run_send(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    url = common.resolve_url(api, args.to, ns, "--to")
    data = read_data(args.data)
    event_id = args.id or str(uuid.uuid4())
    attributes = {
        "specversion": "1.0",
        "id": event_id,
        "type": args.type,
        "source": args.source,
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    extensions = common.parse_pairs(args.extension, "--extension")
    content_type = args.content_type or guess_content_type(data)
    headers = binary_headers(attributes, extensions, content_type)
    answer = api.send("POST", url, data if data is not None else b"", headers)
    if not 200 <= answer.status < 300:
        failure = error_from(answer.status, answer.body, answer.headers)
        raise errors.RippleError(f"{url} answered {answer.status}: {failure}")
    print(f"Event sent to {url}: id={event_id}, status {answer.status}")
    return 0


def format_event_line(event: dict[str, Any]) -> str:
    """`TIME TYPE SOURCE ID DATA` for one JSON-format CloudEvent, data cut to fit a line."""
    moment = output.parse_time(event.get("time"))
    when = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"
    if "data" in event:
        data = event["data"]
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    else:
        text = str(event.get("data_base64", ""))
    if len(text) > DATA_WIDTH:
        text = text[: DATA_WIDTH - 3] + "..."
    fields = [when, event.get("type", "-"), event.get("source", "-"), event.get("id", "-"), text]
    return "  ".join(str(f) for f in fields).rstrip()


def run_tail(args: argparse.Namespace, api: Client) -> int:
    sink = sinks.parse_sink(args.target, common.namespace(args))
    if sink.ref is None or sink.ref.kind != "Broker":
        raise errors.Invalid(f"event tail follows a broker: give broker:NAME, not {args.target!r}")
    try:
        for line in api.stream_lines(f"/tail/{sink.ref.namespace}/{sink.ref.name}"):
            if not line.strip():
                continue  # keep-alive
            try:
                event = json.loads(line)
            except ValueError:
                print(line.decode("utf-8", "replace").rstrip(), flush=True)
                continue
            if args.output == "json":
                print(json.dumps(event, separators=(",", ":")), flush=True)
            else:
                print(format_event_line(event), flush=True)
    except KeyboardInterrupt:
        return 0
    return 0
