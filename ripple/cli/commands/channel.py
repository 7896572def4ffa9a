"""`ripple channel create|list|describe|delete`: kn's channel commands.

Registered by `ripple.cli.main`. `create` builds a messaging.knative.dev/v1 Channel whose
`spec.channelTemplate` is the `--type` (default InMemoryChannel) with the pure
`make_channel`; list/describe/delete are `common`'s shared verbs.

`--type` takes kn's forms: the alias `imc`, or `GROUP:VERSION:KIND`, e.g.
`messaging.knative.dev:v1:InMemoryChannel`.
"""

from __future__ import annotations

import argparse
from typing import Any

from ripple import errors
from ripple.cli.client import Client
from ripple.cli.commands import common, waiting

# kn's built-in channel type aliases.
TYPE_ALIASES: dict[str, common.Kind] = {"imc": common.IN_MEMORY_CHANNEL}
TYPE_USAGE = (
    "a channel type is 'imc' or GROUP:VERSION:KIND, e.g. messaging.knative.dev:v1:InMemoryChannel"
)


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    channel = commands.add_parser("channel", help="manage Channels (kn channel)")
    verbs = channel.add_subparsers(dest="verb", required=True, metavar="VERB")

    create = verbs.add_parser("create", parents=parents, help="create a Channel")
    create.add_argument("name")
    waiting.add_wait_flags(create)
    create.add_argument(
        "--type", dest="channel_type", default="imc",
        help="the backing channel: imc or GROUP:VERSION:KIND (default: imc)",
    )
    common.add_namespace(create)
    create.set_defaults(handler=run_create)

    common.add_read_verbs(
        verbs, parents, "Channel",
        list_handler=run_list, describe_handler=run_describe, delete_handler=run_delete,
        describe_outputs=("json", "yaml", "url"),
    )


def parse_type(text: str) -> common.Kind:
    """`imc` or `GROUP:VERSION:KIND` into (group, version, kind)."""
    if text.lower() in TYPE_ALIASES:
        return TYPE_ALIASES[text.lower()]
    parts = text.split(":")
    if len(parts) != 3 or not all(parts):
        raise errors.Invalid(f"channel type {text!r}: {TYPE_USAGE}")
    return parts[0], parts[1], parts[2]


def make_channel(name: str, namespace: str, channel_type: common.Kind) -> dict[str, Any]:
    group, version, kind = channel_type
    return {
        "apiVersion": "messaging.knative.dev/v1",
        "kind": "Channel",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"channelTemplate": {"apiVersion": f"{group}/{version}", "kind": kind}},
    }


def run_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    body = make_channel(args.name, ns, parse_type(args.channel_type))
    rtype = common.known_type(api, *common.CHANNEL)
    api.call("POST", rtype.path(ns), body)
    print(f"Channel '{args.name}' created in namespace '{ns}'.")
    waiting.created(args, api, rtype, ns, args.name)
    return 0


def run_list(args: argparse.Namespace, api: Client) -> int:
    return common.list_kind(args, api, common.CHANNEL)


def run_describe(args: argparse.Namespace, api: Client) -> int:
    return common.describe_kind(args, api, common.CHANNEL)


def run_delete(args: argparse.Namespace, api: Client) -> int:
    return common.delete_kind(args, api, common.CHANNEL)
