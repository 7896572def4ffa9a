"""`ripple sequence ...` and `ripple parallel ...`: commands for Knative's flows.

Registered by `ripple.cli.main`. kn has no flow commands; these follow its verbs and flag
style (`create NAME`, `list|ls`, `describe`, `delete`, sinks in kn's syntax):
- `ripple sequence create NAME --step SINK [--step SINK...] [--reply SINK]
  [--channel imc|GROUP:VERSION:KIND]`: `spec.steps` in flag order;
- `ripple parallel create NAME --branch BRANCH [--branch...] [--reply SINK] [--channel ...]`,
  a BRANCH being a subscriber sink, or `subscriber=SINK[,filter=SINK][,reply=SINK]`.
`make_sequence`, `make_parallel` and `parse_branch` are pure; the flows reconcilers build
the channels and subscriptions.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ripple import errors
from ripple.cli.client import Client
from ripple.cli.commands import channel, common, waiting

SEQUENCE = ("flows.knative.dev", "v1", "Sequence")
PARALLEL = ("flows.knative.dev", "v1", "Parallel")
BRANCH_KEYS = ("subscriber", "filter", "reply")
BRANCH_USAGE = "a branch is SINK, or subscriber=SINK[,filter=SINK][,reply=SINK]"

Resolve = Callable[[str], dict[str, Any]]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    sequence = commands.add_parser("sequence", help="manage Sequences (flows.knative.dev)")
    verbs = sequence.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", parents=parents, help="create a Sequence")
    create.add_argument("name")
    create.add_argument("--step", action="append", required=True, metavar="SINK",
                        help="a step's subscriber, in sink syntax; repeatable, in order")
    _add_common_flags(create)
    create.set_defaults(handler=run_sequence_create)
    _add_read_verbs(verbs, parents, SEQUENCE)

    parallel = commands.add_parser("parallel", help="manage Parallels (flows.knative.dev)")
    verbs = parallel.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", parents=parents, help="create a Parallel")
    create.add_argument("name")
    create.add_argument("--branch", action="append", required=True, metavar="BRANCH",
                        help=f"{BRANCH_USAGE}; repeatable")
    _add_common_flags(create)
    create.set_defaults(handler=run_parallel_create)
    _add_read_verbs(verbs, parents, PARALLEL)


def _add_common_flags(create: argparse.ArgumentParser) -> None:
    create.add_argument("--reply", metavar="SINK", help="where the last result goes, in sink syntax")
    create.add_argument("--channel", dest="channel_type", metavar="TYPE",
                        help="the channels' kind: imc (the default) or GROUP:VERSION:KIND")
    common.add_namespace(create)
    waiting.add_wait_flags(create)


def _add_read_verbs(verbs: Any, parents: list[argparse.ArgumentParser], kind: common.Kind) -> None:
    common.add_read_verbs(
        verbs, parents, kind[2],
        list_handler=lambda args, api: common.list_kind(args, api, kind),
        describe_handler=lambda args, api: common.describe_kind(args, api, kind),
        delete_handler=lambda args, api: common.delete_kind(args, api, kind),
    )


def parse_branch(text: str, resolve: Resolve) -> dict[str, Any]:
    """A `--branch` value as a Parallel branch; `resolve` turns a sink into a Destination."""
    if "=" not in text.split(":", 1)[0]:  # `ksvc:x`, a URL, a bare name: the subscriber
        return {"subscriber": resolve(text)}
    branch: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or key not in BRANCH_KEYS or not value:
            raise errors.Invalid(f"--branch {text!r}: {BRANCH_USAGE}")
        if key in branch:
            raise errors.Invalid(f"--branch {text!r}: {key} given twice")
        branch[key] = resolve(value)
    if "subscriber" not in branch:
        raise errors.Invalid(f"--branch {text!r}: a branch needs a subscriber; {BRANCH_USAGE}")
    return {k: branch[k] for k in BRANCH_KEYS if k in branch}


def _flow(kind: common.Kind, name: str, namespace: str, spec: dict[str, Any],
          reply: dict[str, Any] | None, channel_type: common.Kind | None) -> dict[str, Any]:
    if reply:
        spec["reply"] = reply
    if channel_type:
        group, version, channel_kind = channel_type
        spec["channelTemplate"] = {"apiVersion": f"{group}/{version}", "kind": channel_kind}
    return {"apiVersion": f"{kind[0]}/{kind[1]}", "kind": kind[2],
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def make_sequence(name: str, namespace: str, steps: list[dict[str, Any]],
                  reply: dict[str, Any] | None = None,
                  channel_type: common.Kind | None = None) -> dict[str, Any]:
    return _flow(SEQUENCE, name, namespace, {"steps": steps}, reply, channel_type)


def make_parallel(name: str, namespace: str, branches: list[dict[str, Any]],
                  reply: dict[str, Any] | None = None,
                  channel_type: common.Kind | None = None) -> dict[str, Any]:
    return _flow(PARALLEL, name, namespace, {"branches": branches}, reply, channel_type)


def _shared(args: argparse.Namespace, api: Client, ns: str) -> tuple[
        Resolve, dict[str, Any] | None, common.Kind | None]:
    def resolve(text: str) -> dict[str, Any]:
        return common.destination(api, text, ns)

    channel_type = channel.parse_type(args.channel_type) if args.channel_type else None
    return resolve, resolve(args.reply) if args.reply else None, channel_type


def run_sequence_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    resolve, reply, channel_type = _shared(args, api, ns)
    body = make_sequence(args.name, ns, [resolve(s) for s in args.step], reply, channel_type)
    return _create(args, api, SEQUENCE, ns, body)


def run_parallel_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    resolve, reply, channel_type = _shared(args, api, ns)
    branches = [parse_branch(b, resolve) for b in args.branch]
    body = make_parallel(args.name, ns, branches, reply, channel_type)
    return _create(args, api, PARALLEL, ns, body)


def _create(args: argparse.Namespace, api: Client, kind: common.Kind, ns: str,
            body: dict[str, Any]) -> int:
    rtype = common.known_type(api, *kind)
    api.call("POST", rtype.path(ns), body)
    print(f"{kind[2]} '{args.name}' created in namespace '{ns}'.")
    waiting.created(args, api, rtype, ns, args.name)
    return 0
