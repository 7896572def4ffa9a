"""`ripple event send`, `tail` and `display`: put a CloudEvent in, watch events go by.

Registered by `ripple.cli.main`. `send` resolves a sink (kn syntax) to a URL with the
controller's resolver (`common.resolve_url`) and POSTs the event in binary mode (`ce-*`
headers), as kn-plugin-event does. `tail` follows `/tail/{namespace}/{broker}` or `/tail/{namespace}/channels/{channel}`, one
JSON CloudEvent per line.
The header and line formatting is pure and table-tested.

`send` takes kn-plugin-event's forms too (knative-extensions/kn-plugin-event, `pkg/cli`):
`--to Kind:apiVersion:name` (`Broker:eventing.knative.dev/v1:default`), `--to-url URL`,
`-f/--field path=value` (dotted paths nest; `true`/`false` and integers become JSON
booleans and numbers, as kn's `readAsBoolean`/`readAsFloat64` read them) and
`--raw-field path=value` (always a string). Its defaults: type
`dev.knative.cli.plugin.event.generic` (kn's `DefaultType`), source `<plugin>/<version>`
(kn's `DefaultSource`, here `ripple-event/v<version>`), and data `{}` as
application/json when neither `--data` nor a field is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ripple import __version__, errors
from ripple.cli import output, sinks
from ripple.cli.client import Client, error_from
from ripple.cli.commands import common, display, replay, trace

DEFAULT_TYPE = "dev.knative.cli.plugin.event.generic"  # kn-plugin-event's event.DefaultType
DEFAULT_SOURCE = f"ripple-event/v{__version__}"  # kn's DefaultSource: PluginName/Version
KN_TO_USAGE = ("--to is a sink (broker:NAME, channel:NAME, ksvc:NAME, a URL...) or kn's "
               "Kind:apiVersion:name, e.g. Broker:eventing.knative.dev/v1:default")
_KN_VERSION = re.compile(r"^v\d+((alpha|beta)\d+)?$")
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
    target = send.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", help="broker:NAME, channel:NAME, ksvc:NAME, a URL, or kn's "
                                     "Kind:apiVersion:name (Broker:eventing.knative.dev/v1:default)")
    target.add_argument("--to-url", help="send to this URL, as is (kn's --to-url)")
    send.add_argument("-t", "--type", default=DEFAULT_TYPE,
                      help=f"the CloudEvent type (default: {DEFAULT_TYPE}, as kn)")
    send.add_argument("-s", "--source", default=DEFAULT_SOURCE,
                      help=f"the CloudEvent source (default: {DEFAULT_SOURCE}, kn's form)")
    send.add_argument("--id", help="the CloudEvent id (default: a new UUID)")
    payload = send.add_mutually_exclusive_group()
    payload.add_argument("--data", help="the payload: text, JSON, or @FILE (default: {})")
    payload.add_argument("-f", "--field", action="append", metavar="PATH=VALUE",
                         help="a field of the JSON data; dotted paths nest; true/false and "
                              "integers are typed, as kn's; repeatable")
    send.add_argument("--raw-field", action="append", metavar="PATH=VALUE",
                      help="like --field, but the value is always a string")
    send.add_argument("--extension", action="append", metavar="NAME=VALUE",
                      help="a CloudEvent extension attribute; repeatable")
    send.add_argument("--content-type", help="default: application/json for JSON, else text/plain")
    send.add_argument("--ingress-token", default=None,
                      help="the token of a Broker or Channel annotated ripple.dev/ingress-auth "
                           "(env RIPPLE_INGRESS_TOKEN; default: read from its Secret through the API)")
    common.add_namespace(send)
    send.set_defaults(handler=run_send)

    tail = verbs.add_parser("tail", parents=parents,
                            help="print events as they enter a broker or a channel")
    tail.add_argument("target", metavar="broker:NAME|channel:NAME",
                      help="the broker or channel to follow (also imc:NAME, "
                           "messaging.knative.dev/v1/inmemorychannels:NAME)")
    common.add_namespace(tail)
    common.add_output(tail, "json")
    tail.set_defaults(handler=run_tail)

    show = verbs.add_parser("display", help="run a sink that prints every event it receives")
    display.add_arguments(show)

    replay.register(verbs, parents)
    trace.register(verbs, parents)


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


def parse_kn_target(text: str, namespace: str) -> dict[str, Any] | None:
    """kn's `--to Kind:apiVersion:name` as a Destination; None for Ripple's sink syntax.

    Three parts are kn's form when the middle one is an apiVersion (`group/version`, or
    `v1` for the core group after a capitalised Kind); `broker:NAME:NS` stays a sink."""
    parts = text.split(":")
    if len(parts) != 3 or text.startswith(("http://", "https://")):
        return None
    kind, api_version, name = parts
    if "/" not in api_version and not (_KN_VERSION.match(api_version) and kind[:1].isupper()):
        return None
    if not kind.isalnum() or not all(api_version.split("/")):
        raise errors.Invalid(f"--to {text!r}: {KN_TO_USAGE}")
    if "=" in name:
        raise errors.Invalid(f"--to {text!r}: a label selector is not supported; name one "
                             "resource (Kind:apiVersion:name)")
    if not name:
        raise errors.Invalid(f"--to {text!r}: {KN_TO_USAGE}")
    return {"ref": {"apiVersion": api_version, "kind": kind, "name": name,
                    "namespace": namespace}}


def build_field_data(fields: list[str] | None, raw_fields: list[str] | None) -> dict[str, Any]:
    """kn's `--field`/`--raw-field`: a JSON object, dotted paths nested (kn's
    `updateMapWithSpec`); typed fields first, then raw ones, each in flag order."""
    data: dict[str, Any] = {}
    for flag, values, typed in (("--field", fields, True), ("--raw-field", raw_fields, False)):
        for value in values or []:
            path, sep, text = value.partition("=")
            if not sep or not path or "" in path.split("."):
                raise errors.Invalid(f"{flag} {value!r}: expected PATH=VALUE, e.g. a.b=1")
            node = data
            keys = path.split(".")
            for key in keys[:-1]:
                child = node.setdefault(key, {})
                if not isinstance(child, dict):
                    raise errors.Invalid(f"{flag} {value!r}: {key!r} already holds a value, "
                                         "not an object")
                node = child
            node[keys[-1]] = typed_value(text) if typed else text
    return data


def typed_value(text: str) -> Any:
    """kn's typing of a `--field` value: exactly `true`/`false`, an integer that prints
    back the same, or a float in Go's `%f` form (`1.500000`); anything else is a string."""
    if text in ("true", "false"):
        return text == "true"
    try:
        number = int(text, 10)
    except ValueError:
        pass
    else:
        if str(number) == text:
            return number
    try:
        real = float(text)
    except ValueError:
        return text
    return real if f"{real:f}" == text else text


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
    destination: dict[str, Any] | None = None  # whose ingress token to look up (issue #15)
    if args.to_url:
        if not sinks.parse_sink(args.to_url, ns).uri:
            raise errors.Invalid(f"--to-url {args.to_url!r}: not an http(s):// URL")
        url = args.to_url
    elif (kn_ref := parse_kn_target(args.to, ns)) is not None:
        url = common.resolve_destination_url(api, kn_ref, ns, "--to", args.to)
        destination = kn_ref
    else:
        url = common.resolve_url(api, args.to, ns, "--to")
        with contextlib.suppress(errors.RippleError):
            destination = common.destination(api, args.to, ns)
    if args.raw_field and args.data is not None:
        raise errors.Invalid("--raw-field builds the data: give it or --data, not both")
    if args.field or args.raw_field or args.data is None:
        data: bytes | None = json.dumps(build_field_data(args.field, args.raw_field)).encode()
    else:
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
    token = ingress_token(api, args, ns, destination)
    if token:
        headers["authorization"] = f"Bearer {token}"
    answer = api.send("POST", url, data if data is not None else b"", headers)
    if not 200 <= answer.status < 300:
        failure = error_from(answer.status, answer.body, answer.headers)
        hint = " (give its token with --ingress-token)" if answer.status == 401 and not token else ""
        raise errors.RippleError(f"{url} answered {answer.status}: {failure}{hint}")
    print(f"Event sent to {url}: id={event_id}, status {answer.status}")
    return 0


def ingress_token(api: Client, args: argparse.Namespace, ns: str,
                  destination: dict[str, Any] | None) -> str | None:
    """`--ingress-token`, else RIPPLE_INGRESS_TOKEN, else, when `destination` refers to a
    Broker or Channel annotated `ripple.dev/ingress-auth`, its Secret's token as the sources
    pick it, read through the API (which needs control access: without it, None, and the
    ingress says what it wants)."""
    from channels import authorizing  # the CLI is the composition root

    given = args.ingress_token or os.environ.get("RIPPLE_INGRESS_TOKEN")
    if given:
        return str(given)
    if destination is None:
        return None
    get = common.lookup(api)

    class Reading:
        def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
            version = "v1" if kind == "Secret" else "messaging.knative.dev/v1"
            if kind == "Broker":
                version = "eventing.knative.dev/v1"
            return get(version, kind, namespace, name)

        def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
            return []

    try:
        return authorizing.sink_token(Reading(), ns, destination)
    except errors.RippleError:
        return None


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


TAIL_USAGE = "event tail follows a broker or a channel: give broker:NAME or channel:NAME"


def tail_path(target: str, namespace: str) -> str:
    """The server's tail address for `broker:X`, `channel:X`, `imc:X` or a channel resource."""
    if target.startswith("imc:"):
        target = "messaging.knative.dev/v1/inmemorychannels:" + target[len("imc:"):]
    try:
        sink = sinks.parse_sink(target, namespace)
    except errors.Invalid:
        raise errors.Invalid(f"{TAIL_USAGE}, not {target!r}") from None
    ref = sink.ref
    if ref is None or ref.group not in ("eventing.knative.dev", "messaging.knative.dev"):
        raise errors.Invalid(f"{TAIL_USAGE}, not {target!r}")
    if ref.resource == "brokers":
        return f"/tail/{ref.namespace}/{ref.name}"
    if ref.resource in ("channels", "inmemorychannels"):
        return f"/tail/{ref.namespace}/channels/{ref.name}"
    raise errors.Invalid(f"{TAIL_USAGE}, not {target!r}")


def run_tail(args: argparse.Namespace, api: Client) -> int:
    path = tail_path(args.target, common.namespace(args))
    try:
        for line in api.stream_lines(path):
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
