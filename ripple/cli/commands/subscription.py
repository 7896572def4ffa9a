"""`ripple subscription create|list|describe|delete`: kn's subscription commands.

Registered by `ripple.cli.main`. `create` builds a messaging.knative.dev/v1 Subscription
with the pure `make_subscription`; list/describe/delete are `common`'s shared verbs.

`--channel` follows kn: `NAME` is a messaging.knative.dev/v1 Channel, `imc:NAME` an
InMemoryChannel, `GROUP:VERSION:KIND:NAME` any channel kind. `--sink`, `--sink-reply`
and `--sink-dead-letter` take kn's sink syntax (`ripple.cli.sinks`).
"""

from __future__ import annotations

import argparse
from typing import Any

from ripple import errors
from ripple.cli.client import Client
from ripple.cli.commands import broker, channel, common, waiting

CHANNEL_USAGE = "a channel is NAME, imc:NAME or GROUP:VERSION:KIND:NAME"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    subscription = commands.add_parser(
        "subscription", help="manage Subscriptions (kn subscription)"
    )
    verbs = subscription.add_subparsers(dest="verb", required=True, metavar="VERB")

    create = verbs.add_parser("create", parents=parents, help="create a Subscription")
    create.add_argument("name")
    create.add_argument("--channel", required=True, help="the channel: NAME or imc:NAME")
    create.add_argument("-s", "--sink", required=True, help="the subscriber, in sink syntax")
    create.add_argument("--sink-reply", help="where the subscriber's replies go, in sink syntax")
    create.add_argument("--sink-dead-letter", help="the dead-letter sink, in sink syntax")
    common.add_namespace(create)
    waiting.add_wait_flags(create)
    create.set_defaults(handler=run_create)

    common.add_read_verbs(
        verbs, parents, "Subscription",
        list_handler=run_list, describe_handler=run_describe, delete_handler=run_delete,
    )


def channel_reference(text: str) -> dict[str, str]:
    """kn's `--channel` value as the Subscription's `spec.channel` KReference."""
    parts = text.split(":")
    if any(not part for part in parts):
        raise errors.Invalid(f"channel {text!r}: {CHANNEL_USAGE}")
    if len(parts) == 1:
        return common.kind_reference(common.CHANNEL, parts[0])
    if len(parts) == 2:
        return common.kind_reference(channel.parse_type(parts[0]), parts[1])
    if len(parts) == 4:
        return common.kind_reference((parts[0], parts[1], parts[2]), parts[3])
    raise errors.Invalid(f"channel {text!r}: {CHANNEL_USAGE}")


def make_subscription(
    name: str,
    namespace: str,
    channel_ref: dict[str, str],
    subscriber: dict[str, Any],
    reply: dict[str, Any] | None = None,
    dead_letter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"channel": channel_ref, "subscriber": subscriber}
    if reply:
        spec["reply"] = reply
    delivery = broker.make_delivery(dead_letter)
    if delivery:
        spec["delivery"] = delivery
    return {
        "apiVersion": "messaging.knative.dev/v1",
        "kind": "Subscription",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def run_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    channel_ref = channel_reference(args.channel)
    rtype = common.known_type(api, *common.SUBSCRIPTION)

    def dest(text: str | None) -> dict[str, Any] | None:
        return common.destination(api, text, ns) if text else None

    subscriber = common.destination(api, args.sink, ns)
    body = make_subscription(
        args.name, ns, channel_ref, subscriber, dest(args.sink_reply), dest(args.sink_dead_letter)
    )
    api.call("POST", rtype.path(ns), body)
    print(f"Subscription '{args.name}' created in namespace '{ns}'.")
    waiting.created(args, api, rtype, ns, args.name)
    return 0


def run_list(args: argparse.Namespace, api: Client) -> int:
    return common.list_kind(args, api, common.SUBSCRIPTION)


def run_describe(args: argparse.Namespace, api: Client) -> int:
    return common.describe_kind(args, api, common.SUBSCRIPTION)


def run_delete(args: argparse.Namespace, api: Client) -> int:
    return common.delete_kind(args, api, common.SUBSCRIPTION)
