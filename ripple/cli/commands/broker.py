"""`ripple broker create|list|describe|delete`: kn's broker commands.

Registered by `ripple.cli.main`. `create` builds an eventing.knative.dev/v1 Broker with
the pure `make_broker` and POSTs it; list/describe/delete are `common`'s shared verbs.
"""

from __future__ import annotations

import argparse
from typing import Any

from ripple.cli.client import Client
from ripple.cli.commands import common, waiting

CLASS_ANNOTATION = "eventing.knative.dev/broker.class"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    broker = commands.add_parser("broker", help="manage Brokers (kn broker)")
    verbs = broker.add_subparsers(dest="verb", required=True, metavar="VERB")

    create = verbs.add_parser("create", parents=parents, help="create a Broker")
    create.add_argument("name")
    waiting.add_wait_flags(create)
    create.add_argument("--class", dest="broker_class", help="the broker class annotation")
    add_delivery_flags(create)
    common.add_namespace(create)
    create.set_defaults(handler=run_create)

    common.add_read_verbs(
        verbs, parents, "Broker",
        list_handler=run_list, describe_handler=run_describe, delete_handler=run_delete,
        describe_outputs=("json", "yaml", "url"),
    )


def add_delivery_flags(parser: argparse.ArgumentParser) -> None:
    """kn's DeliverySpec flags, shared with anything that has `spec.delivery`."""
    parser.add_argument("--dl-sink", help="dead-letter sink, in sink syntax (broker:NAME, URL...)")
    parser.add_argument("--retry", type=int, help="retries before dead-lettering")
    parser.add_argument("--backoff-policy", choices=("linear", "exponential"))
    parser.add_argument("--backoff-delay", help="ISO 8601 duration, e.g. PT0.2S")
    parser.add_argument("--timeout", help="ISO 8601 duration of one delivery attempt")


def make_delivery(
    dead_letter: dict[str, Any] | None,
    retry: int | None = None,
    backoff_policy: str | None = None,
    backoff_delay: str | None = None,
    timeout: str | None = None,
) -> dict[str, Any] | None:
    """A DeliverySpec holding only what was given; None when nothing was."""
    fields = {
        "deadLetterSink": dead_letter,
        "retry": retry,
        "backoffPolicy": backoff_policy,
        "backoffDelay": backoff_delay,
        "timeout": timeout,
    }
    delivery = {k: v for k, v in fields.items() if v is not None}
    return delivery or None


def make_broker(
    name: str, namespace: str, broker_class: str | None, delivery: dict[str, Any] | None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if broker_class:
        metadata["annotations"] = {CLASS_ANNOTATION: broker_class}
    spec: dict[str, Any] = {"delivery": delivery} if delivery else {}
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": metadata,
        "spec": spec,
    }


def delivery_from(args: argparse.Namespace, api: Client, ns: str) -> dict[str, Any] | None:
    dead_letter = common.destination(api, args.dl_sink, ns) if args.dl_sink else None
    return make_delivery(
        dead_letter, args.retry, args.backoff_policy, args.backoff_delay, args.timeout
    )


def run_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    rtype = common.known_type(api, *common.BROKER)
    body = make_broker(args.name, ns, args.broker_class, delivery_from(args, api, ns))
    api.call("POST", rtype.path(ns), body)
    print(f"Broker '{args.name}' successfully created in namespace '{ns}'.")
    waiting.created(args, api, rtype, ns, args.name)
    return 0


def run_list(args: argparse.Namespace, api: Client) -> int:
    return common.list_kind(args, api, common.BROKER)


def run_describe(args: argparse.Namespace, api: Client) -> int:
    return common.describe_kind(args, api, common.BROKER)


def run_delete(args: argparse.Namespace, api: Client) -> int:
    return common.delete_kind(args, api, common.BROKER, "successfully deleted")
