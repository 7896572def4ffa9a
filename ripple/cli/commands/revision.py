"""`ripple revision list|describe|delete`: kn's revision commands.

Registered by `ripple.cli.main`. `list` prints kn's columns (NAME SERVICE TRAFFIC TAGS
GENERATION AGE CONDITIONS READY REASON): like kn, it reads each Service's `status.traffic`
and writes the revision's percent and tags into temporary annotations that only the table
shows (`-o json|yaml` prints the Revisions as stored). Revisions sort by service, then
newest generation first. `delete` refuses a Revision its Service's traffic still names
(a percent or a tag), where kn would leave the Route broken.
"""

from __future__ import annotations

import argparse
from typing import Any

from ripple import errors
from ripple.cli import output
from ripple.cli.client import ApiError, Client
from ripple.cli.commands import common, service


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    revision = commands.add_parser("revision", help="manage Knative Revisions (kn revision)")
    verbs = revision.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = common.add_read_verbs(
        verbs, parents, "Revision",
        list_handler=run_list, describe_handler=run_describe, delete_handler=run_delete,
        describe_outputs=("json", "yaml", "url"),
    )
    listing.add_argument("-s", "--service", help="only the Revisions of this Service")


def with_traffic(revisions: list[dict[str, Any]],
                 services: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of `revisions` carrying kn's traffic and tags annotations for the table."""
    result = []
    for rev in revisions:
        meta = rev.get("metadata") or {}
        owner = (meta.get("labels") or {}).get(service.SERVICE_LABEL, "")
        svc = services.get((str(meta.get("namespace", "")), str(owner)))
        if svc is None:
            result.append(rev)
            continue
        percent, tags = service.traffic_of_revision(str(meta.get("name", "")), svc)
        notes = dict(meta.get("annotations") or {})
        if percent:
            notes[output.REVISION_TRAFFIC] = f"{percent}%"
        if tags:
            notes[output.REVISION_TAGS] = ",".join(tags)
        result.append({**rev, "metadata": {**meta, "annotations": notes}})
    return result


def run_list(args: argparse.Namespace, api: Client) -> int:
    rtype = common.known_type(api, *service.REVISION)
    ns = None if args.all_namespaces else common.namespace(args)
    items = common.list_objects(api, rtype, ns)
    if args.service:
        items = [r for r in items
                 if ((r.get("metadata") or {}).get("labels") or {}).get(service.SERVICE_LABEL)
                 == args.service]
    items = service.sort_revisions(items)
    if args.output in (None, "wide"):
        items = with_traffic(items, services_of(api, items))
    common.show_objects(rtype, items, args.output, all_namespaces=args.all_namespaces)
    return 0


def services_of(
    api: Client, revisions: list[dict[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The Services that own `revisions`, one GET each; a Service gone is left out."""
    rtype = common.known_type(api, *service.SERVICE)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for rev in revisions:
        meta = rev.get("metadata") or {}
        key = (str(meta.get("namespace", "")),
               str((meta.get("labels") or {}).get(service.SERVICE_LABEL, "")))
        if not key[1] or key in found:
            continue
        try:
            found[key] = api.call("GET", rtype.path(*key))
        except ApiError as failure:
            if failure.code != 404:
                raise
    return found


def run_describe(args: argparse.Namespace, api: Client) -> int:
    return common.describe_kind(args, api, service.REVISION)


def in_use(name: str, svc: dict[str, Any]) -> str | None:
    """Why `name` must not be deleted: a Service's traffic names it (by spec or as routed
    now), so deleting it would break the Route (kn allows it; serving#13743)."""
    percent, tags = service.traffic_of_revision(name, svc)
    for target in (svc.get("spec") or {}).get("traffic") or []:
        if target.get("revisionName") == name:
            percent = max(percent, int(target.get("percent") or 0))
            if target.get("tag") and target["tag"] not in tags:
                tags.append(str(target["tag"]))
    if not percent and not tags:
        return None
    owner = (svc.get("metadata") or {}).get("name", "")
    parts = [f"{percent}% of its traffic"] if percent else []
    parts += [f"the tag {tag!r}" for tag in tags]
    moves = [f"--untag {tag}" for tag in tags] + (["--traffic ..."] if percent else [])
    return (f"revision '{name}' has {' and '.join(parts)} in service '{owner}': first run "
            f"ripple service update {owner} {' '.join(moves)}")


def run_delete(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    rtype = common.known_type(api, *service.REVISION)
    rev = api.call("GET", rtype.path(ns, args.name))
    owner = ((rev.get("metadata") or {}).get("labels") or {}).get(service.SERVICE_LABEL)
    if owner:
        svc = services_of(api, [{**rev, "metadata": {**rev["metadata"], "namespace": ns}}])
        why = in_use(args.name, svc.get((ns, owner), {}))
        if why:
            raise errors.Invalid(why)
    return common.delete_kind(args, api, service.REVISION)
