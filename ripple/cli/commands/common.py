"""What several command groups share: namespace flags, printing objects, resolving sinks.

Sinks resolve through `controllers.resolving`, the controller's own resolver, with a
lookup backed by the API and discovery as the served kinds: a sink the CLI takes is one
the controller can resolve, and `--sink ksvc:x` is refused while Services are not served.

Called by `resources`, `apply`, `broker`, `trigger`, `channel`, `subscription` and `event`
in this package. The printing helpers take the clock from `now()` here so the formatters in
`output` stay pure. `add_read_verbs` and `list_kind`/`describe_kind`/`delete_kind` are the
list/describe/delete verbs every kn-style group (broker, trigger, channel...) shares.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from controllers import resolving
from ripple import errors
from ripple.cli import output, sinks
from ripple.cli.client import ApiError, Client, ResourceType

DEFAULT_NAMESPACE = "default"

BROKER = ("eventing.knative.dev", "v1", "Broker")
TRIGGER = ("eventing.knative.dev", "v1", "Trigger")
CHANNEL = ("messaging.knative.dev", "v1", "Channel")
IN_MEMORY_CHANNEL = ("messaging.knative.dev", "v1", "InMemoryChannel")
SUBSCRIPTION = ("messaging.knative.dev", "v1", "Subscription")

Kind = tuple[str, str, str]
Handler = Callable[[argparse.Namespace, Client], int]


def add_namespace(parser: argparse.ArgumentParser, *, all_namespaces: bool = False) -> None:
    parser.add_argument(
        "-n", "--namespace", help="the namespace (default: $RIPPLE_NAMESPACE or 'default')"
    )
    if all_namespaces:
        parser.add_argument(
            "-A", "--all-namespaces", action="store_true", help="list across all namespaces"
        )


def add_output(parser: argparse.ArgumentParser, *choices: str) -> None:
    parser.add_argument("-o", "--output", choices=choices, help="output format")


def add_list_output(parser: argparse.ArgumentParser) -> None:
    """`-o json|yaml|name|wide|jsonpath=TEMPLATE`, checked when parsed (exit 2 on a bad one)."""
    def check(text: str) -> str:
        try:
            return output.parse_format(text)
        except ValueError as failure:
            raise argparse.ArgumentTypeError(str(failure)) from None

    parser.add_argument("-o", "--output", type=check, metavar="FORMAT",
                        help="json, yaml, name, wide, or jsonpath=TEMPLATE (a subset of "
                             "kubectl's: {.a.b}, {.items[*].metadata.name}, {range}...{end})")


Enricher = Callable[[Client, list[dict[str, Any]]], None]
WIDE_ENRICHERS: dict[str, Enricher] = {}
"""`-o wide` hooks per Kind: add to the listed objects what a wide column reads from
outside them (the store's backlog, say), before `output.WIDE_COLUMNS` prints it."""


def namespace(args: argparse.Namespace) -> str:
    return str(
        getattr(args, "namespace", None) or os.environ.get("RIPPLE_NAMESPACE") or DEFAULT_NAMESPACE
    )


def now() -> datetime:
    return datetime.now(UTC)


def with_type(obj: dict[str, Any], rtype: ResourceType) -> dict[str, Any]:
    """List items may omit apiVersion and kind, as Kubernetes' do; -o json wants them."""
    if "apiVersion" in obj and "kind" in obj:
        return obj
    return {"apiVersion": rtype.api_version, "kind": rtype.kind, **obj}


def known_type(api: Client, group: str, version: str, kind: str) -> ResourceType:
    """A kind the command builds itself, e.g. Broker; discovery still supplies its URL."""
    api_version = f"{group}/{version}" if group else version
    return api.type_of(api_version, kind)


def show_objects(
    rtype: ResourceType,
    items: list[dict[str, Any]],
    fmt: str | None,
    *,
    all_namespaces: bool = False,
    single: bool = False,
    api: Client | None = None,
) -> None:
    """Print objects as a table, json, yaml or names; `single` prints one object, not a List."""
    items = [with_type(item, rtype) for item in items]
    if fmt in ("json", "yaml"):
        print(output.dump(items[0] if single and items else output.as_list(items), fmt))
    elif fmt and fmt.startswith("jsonpath="):
        print(output.render_jsonpath(fmt, items[0] if single and items else output.as_list(items)))
    elif fmt == "name":
        for item in items:
            print(f"{rtype.qualified}/{item.get('metadata', {}).get('name', '')}")
    elif not items:
        print(f"No {rtype.plural} found.")
    else:
        wide = fmt == "wide"
        if wide and api is not None and rtype.kind in WIDE_ENRICHERS:
            WIDE_ENRICHERS[rtype.kind](api, items)
        headers, rows = output.table_rows(items, rtype.kind, now(), all_namespaces=all_namespaces,
                                          wide=wide)
        print(output.render_table(headers, rows))


def list_objects(api: Client, rtype: ResourceType, ns: str | None) -> list[dict[str, Any]]:
    """One namespace's objects (all of them when `ns` is None), sorted like kubectl's."""
    items = api.call("GET", rtype.path(ns)).get("items") or []
    def key(obj: dict[str, Any]) -> tuple[str, str]:
        meta = obj.get("metadata") or {}
        return str(meta.get("namespace", "")), str(meta.get("name", ""))

    return sorted(items, key=key)


def served(api: Client) -> resolving.Served:
    """The server's discovery as the resolver's `served`: every version it lists."""
    def check(api_version: str, kind: str) -> bool:
        return any((t.api_version, t.kind) == (api_version, kind) for t in api.resource_types())

    return check


def lookup(api: Client) -> resolving.Lookup:
    """The resolver's `Lookup` over the API: a GET, with 404 as None."""
    def get(api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        rtype = api.type_of(api_version, kind)
        try:
            return with_type(api.call("GET", rtype.path(namespace, name)), rtype)
        except ApiError as failure:
            if failure.code == 404:
                return None
            raise

    return get


def resolve_sink(api: Client, text: str, ns: str) -> sinks.Sink:
    """Parse a sink, learn a `group/version/resource:name` sink's kind from discovery, and
    refuse a kind the controller could not resolve (the resolver's own `KindNotServed`)."""
    sink = sinks.parse_sink(text, ns)
    ref = sink.ref
    if ref is None:
        return sink
    if ref.kind is None:
        for rtype in api.resource_types():
            if (rtype.group, rtype.version, rtype.plural) == (ref.group, ref.version, ref.resource):
                ref = dataclasses.replace(ref, kind=rtype.kind)
                break
        else:
            raise errors.Invalid(
                f"sink {text!r}: the API serves no resource {ref.resource!r} in {ref.api_version}"
            )
    described = f"{ref.kind} {ref.namespace}/{ref.name} ({ref.api_version})"
    refused = resolving.check_served(ref.api_version, str(ref.kind), described, served(api))
    if refused is not None:
        raise errors.Invalid(f"sink {text!r}: {refused.message}")
    return sinks.Sink(ref=ref)


def destination(api: Client, text: str, ns: str) -> dict[str, Any]:
    """The Knative Destination for a sink flag's value."""
    return sinks.to_destination(resolve_sink(api, text, ns))


def resolve_url(api: Client, text: str, ns: str, flag: str) -> str:
    """The URL a sink flag's value resolves to now, by the controller's own resolver."""
    return resolve_destination_url(api, destination(api, text, ns), ns, flag, text)


def resolve_destination_url(
    api: Client, dest: dict[str, Any], ns: str, flag: str, text: str
) -> str:
    """The URL a Destination resolves to now; an error names the flag and its value."""
    found = resolving.resolve_destination(dest, ns, lookup(api), served=served(api))
    if found.uri is None:
        raise errors.Invalid(f"{flag} {text!r}: {found.message}")
    return found.uri


def parse_pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """`k=v` flags (`--filter`, `--extension`) into a dict; a value may contain '='."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise errors.Invalid(f"{flag} {value!r}: expected KEY=VALUE")
        pairs[key] = rest
    return pairs


def add_read_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
    kind: str,
    *,
    list_handler: Handler,
    describe_handler: Handler,
    delete_handler: Handler,
    describe_outputs: tuple[str, ...] = ("json", "yaml"),
) -> argparse.ArgumentParser:
    """kn's `list|ls`, `describe NAME` and `delete NAME` verbs; returns `list` for extra flags."""
    listing = verbs.add_parser("list", aliases=["ls"], parents=parents, help=f"list {kind}s")
    add_namespace(listing, all_namespaces=True)
    add_list_output(listing)
    listing.set_defaults(handler=list_handler)

    describe = verbs.add_parser("describe", parents=parents, help=f"show a {kind} in detail")
    describe.add_argument("name")
    add_namespace(describe)
    add_output(describe, *describe_outputs)
    describe.set_defaults(handler=describe_handler)

    delete = verbs.add_parser("delete", parents=parents, help=f"delete a {kind}")
    delete.add_argument("name")
    add_namespace(delete)
    delete.set_defaults(handler=delete_handler)
    return listing


def list_kind(
    args: argparse.Namespace,
    api: Client,
    kind: Kind,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> int:
    """`GROUP list [-A] [-o ...]`: the objects of `kind`, those `keep` accepts when given."""
    rtype = known_type(api, *kind)
    ns = None if args.all_namespaces else namespace(args)
    items = list_objects(api, rtype, ns)
    if keep is not None:
        items = [item for item in items if keep(item)]
    show_objects(rtype, items, args.output, all_namespaces=args.all_namespaces, api=api)
    return 0


def describe_kind(args: argparse.Namespace, api: Client, kind: Kind) -> int:
    """`GROUP describe NAME [-o ...]`, printed like `ripple describe KIND NAME`."""
    # `resources` imports this module, so it is imported here, when a describe runs.
    from ripple.cli.commands import resources

    rtype = known_type(api, *kind)
    obj = api.call("GET", rtype.path(namespace(args), args.name))
    resources.show_described(with_type(obj, rtype), args.output, api)
    return 0


def delete_kind(args: argparse.Namespace, api: Client, kind: Kind, done: str = "deleted") -> int:
    """`GROUP delete NAME`, then kn's line: `Broker 'b' deleted in namespace 'ns'.`"""
    ns = namespace(args)
    rtype = known_type(api, *kind)
    api.call("DELETE", rtype.path(ns, args.name))
    print(f"{kind[2]} '{args.name}' {done} in namespace '{ns}'.")
    return 0


def kind_reference(kind: Kind, name: str) -> dict[str, str]:
    """A KReference without namespace (the referrer's own), as kn writes `spec.channel`."""
    api_version = f"{kind[0]}/{kind[1]}" if kind[0] else kind[1]
    return {"apiVersion": api_version, "kind": kind[2], "name": name}
