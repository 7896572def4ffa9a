"""`ripple get`, `ripple describe` and `ripple delete`: kubectl's verbs over any discovered kind.

Registered by `ripple.cli.main`; `broker` and `trigger` reuse `describe_lines` for their own
`describe`. `delete -f` hands over to `apply`, which owns manifest loading. The describe
layout follows kn's: header fields, per-kind sections, then a Conditions table.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from ripple import errors, queued
from ripple.cli import output, sinks
from ripple.cli.client import ApiError, Client
from ripple.cli.commands import apply, common

GLYPHS = {"True": "++", "False": "!!", "Unknown": "??"}


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    get = commands.add_parser("get", parents=parents, help="list or show resources of a kind",
                              add_help=False)
    get.add_argument("-h", "--help", action=ServedKindsHelp, nargs=0,
                     help="show this help, with every kind Ripple serves, and exit")
    get.add_argument("kind", help="a kind, by name, plural, short name or Kind (listed below)")
    get.add_argument("name", nargs="?", help="show only this one")
    common.add_namespace(get, all_namespaces=True)
    common.add_list_output(get)
    get.set_defaults(handler=run_get)

    describe = commands.add_parser("describe", parents=parents, help="show one resource in detail")
    describe.add_argument("kind")
    describe.add_argument("name")
    common.add_namespace(describe)
    common.add_output(describe, "json", "yaml", "url")
    describe.set_defaults(handler=run_describe)

    delete = commands.add_parser("delete", parents=parents, help="delete resources")
    delete.add_argument("kind", nargs="?")
    delete.add_argument("names", nargs="*", metavar="name")
    delete.add_argument("-f", "--filename", action="append", default=[],
                        help="delete what these manifests declare (FILE, DIR or -)")
    delete.add_argument("-R", "--recursive", action="store_true", help="walk DIRs recursively")
    delete.add_argument("--all", action="store_true",
                        help="delete every object of KIND in the namespace")
    delete.add_argument("--ignore-not-found", action="store_true")
    common.add_namespace(delete)
    delete.set_defaults(handler=run_delete)


class ServedKindsHelp(argparse.Action):
    """`get --help`: the help, then every kind the API server's registry serves.

    The list comes from `ripple.api.registry`, which the server's discovery is made of, so
    the help cannot offer a kind `get` then calls unknown. It is imported only here: the
    kind table costs a third of a second, which no other command should pay.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        parser.epilog = served_kinds_epilog()
        parser.print_help()
        parser.exit()


def served_kinds_epilog() -> str:
    import ripple.api  # registers every kind
    from ripple.api import registry

    names = []
    for kind in registry.kinds():
        aliases = [n for n in (kind.plural, *kind.short_names) if n != kind.singular]
        names.append(f"{kind.singular} ({', '.join(aliases)})" if aliases else kind.singular)
    return "kinds served: " + ", ".join(names)


def run_get(args: argparse.Namespace, api: Client) -> int:
    rtype = api.find_type(args.kind)
    ns = common.namespace(args)
    if args.name:
        items = [api.call("GET", rtype.path(ns, args.name))]
    else:
        items = common.list_objects(api, rtype, None if args.all_namespaces else ns)
    common.show_objects(
        rtype, items, args.output, all_namespaces=args.all_namespaces, single=bool(args.name),
        api=api,
    )
    return 0


def run_describe(args: argparse.Namespace, api: Client) -> int:
    rtype = api.find_type(args.kind)
    obj = common.with_type(api.call("GET", rtype.path(common.namespace(args), args.name)), rtype)
    show_described(obj, args.output, api)
    return 0


def show_described(obj: dict[str, Any], fmt: str | None, api: Client | None = None) -> None:
    if fmt == "url":
        print(output.url_of(obj))
    elif fmt:
        print(output.dump(obj, fmt))
    else:
        lines = describe_lines(obj, common.now())
        if api is not None and obj.get("kind") in QUEUED:
            at = lines.index("Conditions:") - 1  # before the blank line that opens it
            lines[at:at] = queue_lines(_delivery_stats(api, obj), common.now())
        print("\n".join(lines))


# -- delivery stats: what `describe` adds for a Trigger, Subscription or queued source -----
QUEUED = tuple(map(str, queued.KINDS))
STATS = "/apis/ripple.dev/v1/namespaces/{ns}/deliverystats?target={kind}:{name}"


def _delivery_stats(api: Client, obj: dict[str, Any]) -> dict[str, Any] | str:
    """This target's item of the operations API's stats, or why there is none."""
    meta = obj.get("metadata") or {}
    path = STATS.format(ns=meta.get("namespace") or "default", kind=str(obj["kind"]).lower(),
                        name=meta.get("name", ""))
    try:
        items = api.call("GET", path).get("items") or []
    except errors.RippleError as failure:  # describe still shows the resource
        return str(failure)
    return items[0] if items else "no queue yet"


def add_delivery_stats(api: Client, items: list[dict[str, Any]]) -> None:
    """`-o wide`'s hook (`common.WIDE_ENRICHERS`): each listed Trigger or Subscription gets
    its figures from the operations API, in one call per namespace listed."""
    wanted = {(o.get("metadata") or {}).get("namespace") or "default" for o in items}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for ns in wanted:
        try:
            figures = api.call("GET", f"/apis/ripple.dev/v1/namespaces/{ns}/deliverystats").get("items")
        except errors.RippleError:  # the table without the figures rather than no table
            continue
        found.update({(ns, str(f.get("target"))): f for f in figures or []})
    for obj in items:
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace") or "default", f"{str(obj.get('kind', '')).lower()}:{meta.get('name')}")
        if key in found:
            obj[output.DELIVERY_STATS] = found[key]


for _kind in ("Trigger", "Subscription"):
    common.WIDE_ENRICHERS[_kind] = add_delivery_stats


def queue_lines(stats: dict[str, Any] | str, now: datetime) -> list[str]:
    """The Queue section: backlog, in flight, retries, dead letters, last error (pure)."""
    if isinstance(stats, str):
        return ["", "Queue:", f"  (unavailable: {stats})"]
    dead = f"{stats.get('deadLetters', 0)}"
    if stats.get("deadLetteredTotal", 0) != stats.get("deadLetters", 0):
        dead += f" ({stats.get('deadLetteredTotal', 0)} in all)"
    if stats.get("deadLetters"):
        dead += f"; ripple dlq list {stats.get('target', '')}"
    lines = ["", "Queue:", _field("Backlog", stats.get("backlog", 0), 2),
             _field("In flight", stats.get("inFlight", 0), 2),
             _field("Retries", stats.get("retries", 0), 2), _field("Dead letters", dead, 2)]
    error = stats.get("lastError")
    if isinstance(error, dict):
        code = error.get("code")
        lines.append(_field("Last error", f"{code if code is not None else 'no response'} from "
                            f"{error.get('destination', '')}, {output.age(error.get('time'), now)} ago", 2))
        if error.get("message"):
            lines.append(f"{'':<14}{error['message']}")
    return lines


def run_delete(args: argparse.Namespace, api: Client) -> int:
    if args.filename:
        if args.kind:
            raise errors.Invalid("give either KIND NAME or -f FILE, not both")
        return apply.delete_files(api, args)
    if args.all and args.names:
        raise errors.Invalid("give either NAME... or --all, not both")
    if not args.kind or not (args.names or args.all):
        raise errors.Invalid("delete needs KIND NAME..., KIND --all, or -f FILE|DIR|-")
    rtype = api.find_type(args.kind)
    ns = common.namespace(args)
    names = args.names
    if args.all:
        names = [o["metadata"]["name"] for o in common.list_objects(api, rtype, ns)]
        if not names:
            print(f"No {rtype.plural} found in {ns} namespace.")
    for name in names:
        try:
            api.call("DELETE", rtype.path(ns, name))
        except ApiError as failure:
            if failure.code == 404 and args.ignore_not_found:
                continue
            raise
        print(f'{rtype.qualified} "{name}" deleted')
    return 0


def describe_lines(obj: dict[str, Any], now: datetime) -> list[str]:
    """kn describe's view: Name/Namespace/Labels/Annotations/Age, the spec, the Conditions."""
    meta = obj.get("metadata") or {}
    lines = [
        _field("Name", meta.get("name", "")),
        _field("Namespace", meta.get("namespace", "")),
    ]
    for title, key in (("Labels", "labels"), ("Annotations", "annotations")):
        if meta.get(key):
            lines.append(_field(title, ", ".join(f"{k}={v}" for k, v in sorted(meta[key].items()))))
    lines.append(_field("Age", output.age(meta.get("creationTimestamp"), now)))
    kind = obj.get("kind", "")
    section = {"Broker": _broker_section, "Trigger": _trigger_section,
               "Secret": _secret_section}.get(kind, _generic_section)
    lines += section(obj)
    lines += [""] + condition_lines(output.conditions(obj), now)
    return lines


def condition_lines(found: list[dict[str, Any]], now: datetime) -> list[str]:
    """The Conditions table: Ready first, then by type; messages follow reasons when not OK."""
    if not found:
        return ["Conditions:", "  (none reported yet)"]
    ordered = sorted(found, key=lambda c: (c.get("type") != "Ready", str(c.get("type"))))
    rows = []
    for cond in ordered:
        status = str(cond.get("status", "Unknown"))
        why = str(cond.get("reason") or "")
        if status != "True" and cond.get("message"):
            why = f"{why}: {cond['message']}" if why else str(cond["message"])
        when = output.age(cond.get("lastTransitionTime"), now)
        rows.append([GLYPHS.get(status, "??"), str(cond.get("type", "")), when, why])
    table = output.render_table(["OK", "TYPE", "AGE", "REASON"], rows)
    return ["Conditions:"] + [f"  {line}" for line in table.splitlines()]


def _field(title: str, value: object, indent: int = 0) -> str:
    label = f"{' ' * indent}{title}:"
    return f"{label:<13} {value}".rstrip()  # aligned, yet never glued to a long label


def _broker_section(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec") or {}
    ns = obj.get("metadata", {}).get("namespace", "")
    lines = ["", "Address:", _field("URL", output.url_of(obj), 2)]
    if spec.get("config"):
        lines += ["", _field("Config", sinks.format_destination({"ref": spec["config"]}, ns))]
    lines += _delivery_lines(spec.get("delivery"), ns)
    return lines


def _trigger_section(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec") or {}
    ns = obj.get("metadata", {}).get("namespace", "")
    lines = [_field("Broker", spec.get("broker", ""))]
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    if attributes:
        lines.append("Filter:")
        lines += [_field(k, v, 2) for k, v in sorted(attributes.items())]
    if spec.get("filters"):
        lines.append("Filters:")
        lines += ["  " + line for line in output.dump(spec["filters"], "yaml").splitlines()]
    lines += ["", "Sink:"] + _destination_lines(spec.get("subscriber"), ns)
    lines += _delivery_lines(spec.get("delivery"), ns)
    return lines


def _secret_section(obj: dict[str, Any]) -> list[str]:
    """kubectl's view of a Secret: its type and each key's size, never a value."""
    import base64
    import binascii

    lines = ["", _field("Type", obj.get("type") or "Opaque"), "", "Data:"]
    data = obj.get("data")
    if not isinstance(data, dict):
        return lines + ["  (hidden: reading a Secret's data needs the API token)"]
    for key in sorted(data):
        try:
            size = len(base64.b64decode(str(data[key]), validate=True))
        except (binascii.Error, ValueError):
            size = 0
        lines.append(_field(key, f"{size} bytes", 2))
    return lines or ["  (none)"]


def _generic_section(obj: dict[str, Any]) -> list[str]:
    lines = []
    if output.url_of(obj):
        lines += ["", "Address:", _field("URL", output.url_of(obj), 2)]
    if obj.get("spec"):
        lines += ["", "Spec:"]
        lines += ["  " + line for line in output.dump(obj["spec"], "yaml").splitlines()]
    return lines


def _destination_lines(dest: dict[str, Any] | None, ns: str) -> list[str]:
    if not dest:
        return ["  (none)"]
    lines = []
    ref = dest.get("ref")
    if isinstance(ref, dict):
        lines.append(_field("Name", ref.get("name", ""), 2))
        lines.append(_field("Namespace", ref.get("namespace") or ns, 2))
        lines.append(_field("Resource", f"{ref.get('kind', '')} ({ref.get('apiVersion', '')})", 2))
    if dest.get("uri"):
        lines.append(_field("URI", dest["uri"], 2))
    return lines


def _delivery_lines(delivery: dict[str, Any] | None, ns: str) -> list[str]:
    if not delivery:
        return []
    lines = ["", "Delivery:"]
    for title, key in (("Retry", "retry"), ("Backoff", "backoffPolicy"),
                       ("BackoffDelay", "backoffDelay"), ("Timeout", "timeout")):
        if delivery.get(key) is not None:
            lines.append(_field(title, delivery[key], 2))
    if delivery.get("deadLetterSink"):
        dead_letter = sinks.format_destination(delivery["deadLetterSink"], ns)
        lines.append(_field("DeadLetter", dead_letter, 2))
    return lines
