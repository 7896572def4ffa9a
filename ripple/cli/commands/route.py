"""`ripple route list|describe`: kn's route commands.

Registered by `ripple.cli.main`. A Route is made by its Service (same name), so, as in kn,
there is no create or delete here. `list` prints kn's NAME URL READY; `describe` adds the
resolved `status.traffic`: each revision's percent, its tag and the tag's URL.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from ripple.cli import output
from ripple.cli.client import Client
from ripple.cli.commands import common, service


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    route = commands.add_parser("route", help="show Knative Routes (kn route)")
    verbs = route.add_subparsers(dest="verb", required=True, metavar="VERB")

    listing = verbs.add_parser("list", aliases=["ls"], parents=parents, help="list Routes")
    listing.add_argument("name", nargs="?", help="only this Route")
    common.add_namespace(listing, all_namespaces=True)
    common.add_output(listing, "json", "yaml", "name")
    listing.set_defaults(handler=run_list)

    describe = verbs.add_parser("describe", parents=parents, help="show a Route in detail")
    describe.add_argument("name")
    common.add_namespace(describe)
    common.add_output(describe, "json", "yaml", "url")
    describe.set_defaults(handler=run_describe)


def run_list(args: argparse.Namespace, api: Client) -> int:
    def named(item: dict[str, Any]) -> bool:
        return not args.name or (item.get("metadata") or {}).get("name") == args.name

    return common.list_kind(args, api, service.ROUTE, named)


def traffic_lines(route: dict[str, Any]) -> list[str]:
    """kn route describe's Traffic Targets: percent, revision (or @latest), tag and URL."""
    rows = []
    for target in (route.get("status") or {}).get("traffic") or []:
        name = str(target.get("revisionName") or "")
        shown = f"@latest ({name})" if target.get("latestRevision") else name
        row = [f"{int(target.get('percent') or 0)}%", shown]
        if target.get("tag"):
            row += [f"#{target['tag']}", str(target.get("url") or "")]
        rows.append(row)
    if not rows:
        return ["Traffic Targets:", "  (none yet)"]
    width = max(len(row) for row in rows)
    table = output.render_table([""] * width, [row + [""] * (width - len(row)) for row in rows])
    return ["Traffic Targets:"] + [f"  {line}" for line in table.splitlines()[1:]]


def describe_lines(route: dict[str, Any], now: datetime) -> list[str]:
    from ripple.cli.commands import resources  # it imports `apply`; only describe needs it

    meta = route.get("metadata") or {}
    status = route.get("status") or {}
    lines = [f"Name:       {meta.get('name', '')}", f"Namespace:  {meta.get('namespace', '')}",
             f"Age:        {output.age(meta.get('creationTimestamp'), now)}".rstrip(),
             f"URL:        {status.get('url') or ''}".rstrip()]
    address = (status.get("address") or {}).get("url")
    if address:
        lines.append(f"Address:    {address}")
    lines += [""] + traffic_lines(route)
    lines += [""] + resources.condition_lines(output.conditions(route), now)
    return lines


def run_describe(args: argparse.Namespace, api: Client) -> int:
    if args.output:
        return common.describe_kind(args, api, service.ROUTE)
    rtype = common.known_type(api, *service.ROUTE)
    route = api.call("GET", rtype.path(common.namespace(args), args.name))
    print("\n".join(describe_lines(route, common.now())))
    return 0
