"""`ripple trigger create|update|list|describe|delete`: kn's trigger commands.

Registered by `ripple.cli.main`. `create` builds an eventing.knative.dev/v1 Trigger with
the pure `make_trigger`; `update` GETs, edits filters or sink, and PUTs. `--filter k=v`
fills `spec.filter.attributes` (exact matches, ANDed); on update `--filter k-` removes one.

`update --filter` writes the dialect the Trigger uses (`edit_spec_filters`): when
`spec.filters` (the SubscriptionsAPI dialect) is set it takes precedence over
`spec.filter`, so the edit goes to its top-level `exact` expressions; writing
`filter.attributes` there would print "updated" and change nothing. Removing a filter the
Trigger does not have is refused, and an update that changes nothing says "unchanged".
"""

from __future__ import annotations

import argparse
from typing import Any

from ripple import errors
from ripple.cli.client import Client
from ripple.cli.commands import common, waiting


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    trigger = commands.add_parser("trigger", help="manage Triggers (kn trigger)")
    verbs = trigger.add_subparsers(dest="verb", required=True, metavar="VERB")

    create = verbs.add_parser("create", parents=parents, help="create a Trigger")
    create.add_argument("name")
    create.add_argument("-b", "--broker", default="default", help="the Broker (default: default)")
    create.add_argument("--filter", action="append", metavar="KEY=VALUE",
                        help="an exact match on a CloudEvent attribute; repeatable, ANDed")
    create.add_argument("-s", "--sink", required=True, help="the subscriber, in sink syntax")
    common.add_namespace(create)
    waiting.add_wait_flags(create)
    create.set_defaults(handler=run_create)

    update = verbs.add_parser("update", parents=parents, help="change a Trigger's filters or sink")
    update.add_argument("name")
    update.add_argument("--filter", action="append", metavar="KEY=VALUE|KEY-",
                        help="set a filter, or remove one with KEY-")
    update.add_argument("-s", "--sink", help="the new subscriber, in sink syntax")
    common.add_namespace(update)
    update.set_defaults(handler=run_update)

    listing = common.add_read_verbs(
        verbs, parents, "Trigger",
        list_handler=run_list, describe_handler=run_describe, delete_handler=run_delete,
    )
    listing.add_argument("-b", "--broker", help="only the Triggers of this Broker")


def edit_filters(
    attributes: dict[str, str], flags: list[str] | None, *, removals: bool
) -> dict[str, str]:
    """Apply `--filter` flags to filter attributes: `k=v` sets, `k-` removes (update only)."""
    result = dict(attributes)
    for flag in flags or []:
        if removals and flag.endswith("-") and "=" not in flag:
            result.pop(flag[:-1], None)
            continue
        result.update(common.parse_pairs([flag], "--filter"))
    return result


def edit_spec_filters(spec: dict[str, Any], flags: list[str]) -> dict[str, Any]:
    """The spec with `--filter` flags applied in the dialect that takes effect (pure)."""
    spec = dict(spec)
    if spec.get("filters"):
        spec["filters"] = edit_exact_filters(spec["filters"], flags)
        return spec
    current = (spec.get("filter") or {}).get("attributes") or {}
    for flag in flags:
        if _is_removal(flag) and flag[:-1] not in current:
            raise errors.Invalid(f"--filter {flag}: the Trigger has no filter on {flag[:-1]!r}")
    edited = edit_filters(current, flags, removals=True)
    kept = {k: v for k, v in (spec.get("filter") or {}).items() if k != "attributes"}
    spec["filter"] = {**kept, "attributes": edited} if edited else kept
    if not spec["filter"]:
        del spec["filter"]
    return spec


def edit_exact_filters(filters: list[Any], flags: list[str]) -> list[Any]:
    """`k=v` sets `k` in the top-level `exact` expression that has it, or appends
    `{exact: {k: v}}`; `k-` removes `k` from every top-level `exact` (dropping emptied ones).
    Nested or other dialects are left alone: those are edited with `ripple apply`."""
    result = [dict(f) if isinstance(f, dict) else f for f in filters]
    for flag in flags:
        exacts = [f for f in result if isinstance(f, dict) and isinstance(f.get("exact"), dict)]
        if _is_removal(flag):
            key = flag[:-1]
            having = [f for f in exacts if key in f["exact"]]
            if not having:
                raise errors.Invalid(
                    f"--filter {flag}: the Trigger's spec.filters (which take precedence over "
                    f"spec.filter) has no top-level exact filter on {key!r}; edit other "
                    "filters with 'ripple apply'")
            for each in having:
                each["exact"] = {k: v for k, v in each["exact"].items() if k != key}
            result = [f for f in result if not (f in having and not f["exact"])]
            continue
        [(key, value)] = common.parse_pairs([flag], "--filter").items()
        target = next((f for f in exacts if key in f["exact"]), None)
        if target is None:
            result.append({"exact": {key: value}})
        else:
            target["exact"] = {**target["exact"], key: value}
    return result


def _is_removal(flag: str) -> bool:
    return flag.endswith("-") and "=" not in flag


def make_trigger(
    name: str, namespace: str, broker: str, filters: dict[str, str], subscriber: dict[str, Any]
) -> dict[str, Any]:
    spec: dict[str, Any] = {"broker": broker, "subscriber": subscriber}
    if filters:
        spec["filter"] = {"attributes": filters}
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def run_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    filters = edit_filters({}, args.filter, removals=False)
    rtype = common.known_type(api, *common.TRIGGER)
    subscriber = common.destination(api, args.sink, ns)
    api.call("POST", rtype.path(ns), make_trigger(args.name, ns, args.broker, filters, subscriber))
    print(f"Trigger '{args.name}' successfully created in namespace '{ns}'.")
    waiting.created(args, api, rtype, ns, args.name)
    return 0


def run_update(args: argparse.Namespace, api: Client) -> int:
    if not args.filter and not args.sink:
        raise errors.Invalid("nothing to update: give --filter or --sink")
    ns = common.namespace(args)
    rtype = common.known_type(api, *common.TRIGGER)
    current = api.call("GET", rtype.path(ns, args.name))
    spec = dict(current.get("spec") or {})
    if args.filter:
        spec = edit_spec_filters(spec, args.filter)
    if args.sink:
        spec["subscriber"] = common.destination(api, args.sink, ns)
    if spec == (current.get("spec") or {}):
        print(f"Trigger '{args.name}' unchanged in namespace '{ns}': it already has that "
              "filter and sink.")
        return 0
    api.call("PUT", rtype.path(ns, args.name), {**current, "spec": spec})
    where = " (spec.filters, which take precedence)" if args.filter and spec.get("filters") else ""
    print(f"Trigger '{args.name}' updated in namespace '{ns}'{where}.")
    return 0


def run_list(args: argparse.Namespace, api: Client) -> int:
    def of_broker(item: dict[str, Any]) -> bool:
        return not args.broker or (item.get("spec") or {}).get("broker") == args.broker

    return common.list_kind(args, api, common.TRIGGER, of_broker)


def run_describe(args: argparse.Namespace, api: Client) -> int:
    return common.describe_kind(args, api, common.TRIGGER)


def run_delete(args: argparse.Namespace, api: Client) -> int:
    return common.delete_kind(args, api, common.TRIGGER)
