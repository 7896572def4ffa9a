"""`ripple dlq`: browse Ripple's dead-letter store, send its events again, or purge it.

    ripple dlq list [SCOPE] [-o json]            id, target, type, source, code, destination,
                                                 attempts, age of each entry, oldest first
    ripple dlq show ID                           the whole entry (ID: a store id or an event id)
    ripple dlq redrive [SCOPE] [IDS... | --all] [--to SINK]
    ripple dlq purge [SCOPE] [IDS...] [--yes]

SCOPE is `trigger:NAME`, `subscription:NAME`, `broker:NAME`, `channel:NAME` or a source
(`pingsource:NAME`, `kafkasource:NAME`, ...); without one, every target of the namespace. Everything
goes through the operations API (`controllers.platforms.local.operations`), which the
console uses too: a redrive puts each event back in its queue and out of the store in one
step, and the engine delivers it with its retries. Registered by `ripple.cli.main`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import datetime
from typing import Any

from ripple import errors, queued
from ripple.cli import output
from ripple.cli.client import Client
from ripple.cli.commands import common

API = "/apis/ripple.dev/v1"
SCOPE_HELP = "trigger:NAME, subscription:NAME, broker:NAME, channel:NAME or SOURCEKIND:NAME"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    dlq = commands.add_parser("dlq", parents=parents, help="Ripple's dead-letter store: list, show, redrive, purge")
    verbs = dlq.add_subparsers(dest="verb", required=True, metavar="VERB")

    listing = verbs.add_parser("list", parents=parents, help="list dead letters, oldest first")
    listing.add_argument("scope", nargs="?", metavar="SCOPE", help=SCOPE_HELP)
    common.add_namespace(listing, all_namespaces=True)
    common.add_output(listing, "json", "yaml")
    listing.set_defaults(handler=run_list)

    show = verbs.add_parser("show", parents=parents, help="show dead letters by store id or event id")
    show.add_argument("id", metavar="ID")
    common.add_namespace(show)
    common.add_output(show, "json", "yaml")
    show.set_defaults(handler=run_show)

    redrive = verbs.add_parser("redrive", parents=parents,
                               help="deliver dead letters again, with retries; removed once moved")
    redrive.add_argument("words", nargs="*", metavar="[SCOPE] ID", help=f"an optional {SCOPE_HELP}, then ids")
    redrive.add_argument("--all", action="store_true", help="every dead letter of the scope")
    redrive.add_argument("--to", metavar="SINK", help="send to this sink instead (kn's sink syntax, or a URL)")
    common.add_namespace(redrive)
    redrive.set_defaults(handler=run_redrive)

    purge = verbs.add_parser("purge", parents=parents, help="delete dead letters")
    purge.add_argument("words", nargs="*", metavar="[SCOPE] ID", help=f"an optional {SCOPE_HELP}, then ids")
    purge.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    common.add_namespace(purge)
    purge.set_defaults(handler=run_purge)


def split_scope(words: list[str]) -> tuple[str | None, list[str]]:
    """`[SCOPE] IDS...`: the first word is a scope when it reads `kind:NAME` with a kind
    of `queued.SCOPES` (an event id may hold a colon too, e.g. `urn:uuid:...`)."""
    if words and words[0].partition(":")[0].lower() in queued.SCOPES and words[0].partition(":")[2]:
        return words[0], words[1:]
    return None, words


def rows(items: list[dict[str, Any]], now: datetime, *, all_namespaces: bool = False) -> tuple[list[str], list[list[str]]]:
    """The `dlq list` table (pure)."""
    headers = ["ID", "TARGET", "TYPE", "SOURCE", "CODE", "DESTINATION", "ATTEMPTS", "AGE"]
    table = []
    for item in items:
        event = item.get("event") or {}
        row = [str(item.get("id", "")), str(item.get("target", "")), str(event.get("type", "")),
               str(event.get("source", "")), str(item.get("code", "")), str(item.get("destination", "")),
               str(item.get("attempts", "")), output.age(item.get("time"), now)]
        if all_namespaces:
            row.insert(0, str(item.get("namespace", "")))
        table.append(row)
    if all_namespaces:
        headers.insert(0, "NAMESPACE")
    return headers, table


def detail_lines(item: dict[str, Any], now: datetime) -> list[str]:
    """`dlq show`: the facts, then the event as a dead-letter sink would get it (pure)."""
    facts = [("ID", item.get("id")), ("Target", item.get("target")), ("Namespace", item.get("namespace")),
             ("Time", f"{item.get('time')} ({output.age(item.get('time'), now)} ago)"),
             ("Code", item.get("code")), ("Destination", item.get("destination")),
             ("Attempts", item.get("attempts")), ("Reason", item.get("reason"))]
    lines = [f"{title + ':':<13} {value}" for title, value in facts if value not in (None, "")]
    lines += ["Event:"] + ["  " + line for line in json.dumps(item.get("event"), indent=2).splitlines()]
    return lines


def _path(args: argparse.Namespace, tail: str, **query: str | None) -> str:
    base = API if getattr(args, "all_namespaces", False) else f"{API}/namespaces/{common.namespace(args)}"
    wanted = {k: v for k, v in query.items() if v}
    return f"{base}/{tail}" + (f"?{urllib.parse.urlencode(wanted)}" if wanted else "")


def run_list(args: argparse.Namespace, api: Client) -> int:
    if args.all_namespaces and args.scope:
        raise errors.Invalid("a SCOPE names a target in one namespace: give it with -n, not -A")
    items = api.call("GET", _path(args, "deadletters", target=args.scope)).get("items") or []
    if args.output:
        print(output.dump(items, args.output))
    elif not items:
        print("No dead letters found.")
    else:
        headers, table = rows(items, common.now(), all_namespaces=args.all_namespaces)
        print(output.render_table(headers, table))
    return 0


def run_show(args: argparse.Namespace, api: Client) -> int:
    wanted = urllib.parse.quote(args.id, safe="")
    items = api.call("GET", _path(args, f"deadletters/{wanted}")).get("items") or []
    if args.output:
        print(output.dump(items[0] if len(items) == 1 else items, args.output))
        return 0
    now = common.now()
    print("\n\n".join("\n".join(detail_lines(item, now)) for item in items))
    return 0


def run_redrive(args: argparse.Namespace, api: Client) -> int:
    scope, ids = split_scope(args.words)
    if args.all == bool(ids):
        raise errors.Invalid("redrive needs the ids to send again, or --all (not both)")
    body: dict[str, Any] = {"target": scope, "all": True} if args.all else {"target": scope, "ids": ids}
    if args.to:
        body["to"] = common.resolve_url(api, args.to, common.namespace(args), "--to")
    result = api.call("POST", _path(args, "deadletters/redrive"), body)
    redriven = result.get("redriven") or []
    for entry in redriven:
        print(f"redriven {entry['target']} {entry['id']}")
    print(f"{len(redriven)} dead letter(s) back in their queue" + (f", to {body['to']}" if args.to else ""))
    missing = result.get("missing") or []
    if missing:
        raise errors.NotFound(f"no dead letter with the id(s): {', '.join(missing)}")
    return 0


def run_purge(args: argparse.Namespace, api: Client) -> int:
    scope, ids = split_scope(args.words)
    if not args.yes:
        if ids:
            what = f"{len(ids)} dead letter(s)"
        else:
            count = len(api.call("GET", _path(args, "deadletters", target=scope)).get("items") or [])
            what = f"all {count} dead letter(s) of {scope or 'namespace ' + common.namespace(args)}"
        if not confirm(f"Purge {what}? [y/N] "):
            print("Nothing purged.")
            return 1
    body: dict[str, Any] = {"target": scope, "ids": ids} if ids else {"target": scope, "all": True}
    purged = api.call("POST", _path(args, "deadletters/purge"), body).get("purged", 0)
    print(f"{purged} dead letter(s) purged")
    return 0


def confirm(question: str) -> bool:
    print(question, end="", flush=True, file=sys.stderr)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    return answer.strip().lower() in ("y", "yes")
