"""`ripple source list|ping|kafka ...`: kn's source commands.

Registered by `ripple.cli.main`. As in kn, sources sit one level deeper:
- `ripple source list [-A] [-o ...]`: every source of every kind, kn's NAME TYPE RESOURCE
  SINK READY table;
- `ripple source ping create NAME [--schedule S] [--data D] [--encoding text|base64]
  [--ce-override k=v] --sink SINK`, and `list|describe|delete`;
- `ripple source kafka create NAME --servers S --topics T [--consumergroup G]
  [--initial-offset earliest|latest] [--ce-override k=v] --sink SINK`, and
  `list|describe|delete`.
- `ripple source github|gitlab create|update|list|describe|delete` (`git_sources`).
`make_ping_source` and `make_kafka_source` are pure.
"""

from __future__ import annotations

import argparse
import base64
import binascii
from typing import Any

from ripple import errors
from ripple.cli import output
from ripple.cli.client import Client
from ripple.cli.commands import common, git_sources, waiting

PING_SOURCE = ("sources.knative.dev", "v1", "PingSource")
KAFKA_SOURCE = ("sources.knative.dev", "v1", "KafkaSource")
GITHUB_SOURCE = git_sources.GITHUB_SOURCE
GITLAB_SOURCE = git_sources.GITLAB_SOURCE
SOURCE_KINDS = (PING_SOURCE, KAFKA_SOURCE, GITHUB_SOURCE, GITLAB_SOURCE)


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    source = commands.add_parser("source", help="manage event sources (kn source)")
    kinds = source.add_subparsers(dest="source_kind", required=True, metavar="KIND")

    listing = kinds.add_parser("list", aliases=["ls"], parents=parents, help="list every source")
    common.add_namespace(listing, all_namespaces=True)
    common.add_output(listing, "json", "yaml", "name")
    listing.set_defaults(handler=run_list_all)

    ping = kinds.add_parser("ping", help="manage PingSources (cron)")
    verbs = ping.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", parents=parents, help="create a PingSource")
    create.add_argument("name")
    create.add_argument("--schedule", default="", help="cron schedule (default: every minute)")
    create.add_argument("-d", "--data", default="", help="the event data")
    create.add_argument("-e", "--encoding", choices=("text", "base64"), default="text",
                        help="how --data is given: text (default) or base64")
    _add_common_create_flags(create)
    create.set_defaults(handler=run_ping_create)
    _add_read_verbs(verbs, parents, PING_SOURCE)

    kafka = kinds.add_parser("kafka", help="manage KafkaSources")
    verbs = kafka.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", parents=parents, help="create a KafkaSource")
    create.add_argument("name")
    create.add_argument("--servers", required=True, help="bootstrap servers, comma separated")
    create.add_argument("--topics", required=True, help="topics, comma separated")
    create.add_argument("--consumergroup", help="the consumer group (default: derived from the name)")
    create.add_argument("--initial-offset", choices=("earliest", "latest"),
                        help="where a new group starts (default: latest)")
    _add_common_create_flags(create)
    create.set_defaults(handler=run_kafka_create)
    _add_read_verbs(verbs, parents, KAFKA_SOURCE)
    git_sources.register(kinds, parents)


def _add_common_create_flags(create: argparse.ArgumentParser) -> None:
    create.add_argument("-s", "--sink", required=True, help="where events go, in sink syntax")
    create.add_argument("--ce-override", action="append", metavar="KEY=VALUE",
                        help="a CloudEvent extension added to every event (repeatable)")
    common.add_namespace(create)
    waiting.add_wait_flags(create)


def _add_read_verbs(verbs: Any, parents: list[argparse.ArgumentParser], kind: common.Kind) -> None:
    common.add_read_verbs(
        verbs, parents, kind[2],
        list_handler=lambda args, api: common.list_kind(args, api, kind),
        describe_handler=lambda args, api: common.describe_kind(args, api, kind),
        delete_handler=lambda args, api: common.delete_kind(args, api, kind),
    )


def _base(kind: common.Kind, name: str, namespace: str, sink: dict[str, Any],
          overrides: dict[str, str]) -> dict[str, Any]:
    group, version, kind_name = kind
    spec: dict[str, Any] = {"sink": sink}
    if overrides:
        spec["ceOverrides"] = {"extensions": overrides}
    return {"apiVersion": f"{group}/{version}", "kind": kind_name,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def make_ping_source(name: str, namespace: str, *, schedule: str, data: str, encoding: str,
                     sink: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    obj = _base(PING_SOURCE, name, namespace, sink, overrides)
    if schedule:
        obj["spec"]["schedule"] = schedule
    if data and encoding == "base64":
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error:
            raise errors.Invalid(f"--data {data!r}: not valid base64 (--encoding base64)") from None
        obj["spec"]["dataBase64"] = data
    elif data:
        obj["spec"]["data"] = data
    return obj


def make_kafka_source(name: str, namespace: str, *, servers: str, topics: str,
                      group: str | None, initial_offset: str | None, sink: dict[str, Any],
                      overrides: dict[str, str]) -> dict[str, Any]:
    obj = _base(KAFKA_SOURCE, name, namespace, sink, overrides)
    obj["spec"]["bootstrapServers"] = _split(servers)
    obj["spec"]["topics"] = _split(topics)
    if group:
        obj["spec"]["consumerGroup"] = group
    if initial_offset:
        obj["spec"]["initialOffset"] = initial_offset
    return obj


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def run_ping_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    body = make_ping_source(args.name, ns, schedule=args.schedule, data=args.data,
                            encoding=args.encoding, sink=common.destination(api, args.sink, ns),
                            overrides=common.parse_pairs(args.ce_override, "--ce-override"))
    return _create(args, api, PING_SOURCE, ns, body)


def run_kafka_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    body = make_kafka_source(args.name, ns, servers=args.servers, topics=args.topics,
                             group=args.consumergroup, initial_offset=args.initial_offset,
                             sink=common.destination(api, args.sink, ns),
                             overrides=common.parse_pairs(args.ce_override, "--ce-override"))
    return _create(args, api, KAFKA_SOURCE, ns, body)


def _create(args: argparse.Namespace, api: Client, kind: common.Kind, ns: str,
            body: dict[str, Any]) -> int:
    rtype = common.known_type(api, *kind)
    api.call("POST", rtype.path(ns), body)
    print(f"{kind[2]} '{body['metadata']['name']}' created in namespace '{ns}'.")
    waiting.created(args, api, rtype, ns, body["metadata"]["name"])
    return 0


def run_list_all(args: argparse.Namespace, api: Client) -> int:
    """kn's `source list`: NAME TYPE RESOURCE SINK READY over every source kind."""
    ns = None if args.all_namespaces else common.namespace(args)
    found = []
    for kind in SOURCE_KINDS:
        rtype = common.known_type(api, *kind)
        found += [(rtype, common.with_type(o, rtype)) for o in common.list_objects(api, rtype, ns)]
    if args.output in ("json", "yaml"):
        print(output.dump(output.as_list([o for _, o in found]), args.output))
        return 0
    if args.output == "name":
        for rtype, obj in found:
            print(f"{rtype.qualified}/{obj['metadata']['name']}")
        return 0
    if not found:
        print("No sources found.")
        return 0
    headers, rows = source_rows([o for _, o in found], [r.qualified for r, _ in found])
    if args.all_namespaces:
        headers.insert(0, "NAMESPACE")
        for (_, obj), row in zip(found, rows):
            row.insert(0, str(obj["metadata"].get("namespace", "")))
    print(output.render_table(headers, rows))
    return 0


def source_rows(items: list[dict[str, Any]], resources: list[str]) -> tuple[list[str], list[list[str]]]:
    """Pure: kn's `source list` columns for objects of several kinds."""
    sink = output.sink_of("sink")
    rows = [[str(o["metadata"]["name"]), str(o["kind"]), resource, sink(o, common.now()), output.ready(o)]
            for o, resource in zip(items, resources)]
    return ["NAME", "TYPE", "RESOURCE", "SINK", "READY"], rows
