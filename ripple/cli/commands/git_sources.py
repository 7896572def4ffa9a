"""`ripple source github|gitlab create|update|list|describe|delete`: the webhook sources.

Registered by `ripple.cli.commands.source` under `ripple source`. The GitHub flags follow
the kn plugin for GitHubSource (`kn source github create NAME --org O --repo R
--access-token T --secret-token T --api-url URL --sink S`); GitLab's are their
counterparts (`--project-url`). Tokens given as values are written to a Secret named
`NAME-tokens` (created or updated, as `apply` does) and referenced by `secretKeyRef`;
`--secret-token-ref SECRET:KEY` and `--access-token-ref SECRET:KEY` reference a Secret
the user keeps. `--event-types` is required (the CRDs require one); `--register-webhook`
asks Ripple to register the hook itself (it needs an access token), else the receiver URL
is in the source's `status.webhookUrl` for the user to paste (the WEBHOOK column of
`list`).

`update` changes the sink, event types and tokens, and says "unchanged" for a no-op. The
builders (`make_github_source`, `make_gitlab_source`, `token_refs`) are pure.
"""

from __future__ import annotations

import argparse
from typing import Any

from ripple import errors
from ripple.cli.client import Client
from ripple.cli.commands import apply, common, waiting

GITHUB_SOURCE = ("sources.knative.dev", "v1alpha1", "GitHubSource")
GITLAB_SOURCE = ("sources.knative.dev", "v1alpha1", "GitLabSource")
REGISTER_ANNOTATION = "ripple.dev/register-webhook"  # github_source_types.REGISTER_ANNOTATION
TOKENS = (("secret_token", "secretToken"), ("access_token", "accessToken"))


def register(kinds: Any, parents: list[argparse.ArgumentParser]) -> None:
    github = kinds.add_parser("github", help="manage GitHubSources (webhooks)")
    verbs = github.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", parents=parents, help="create a GitHubSource")
    create.add_argument("name")
    create.add_argument("--org", required=True, help="the GitHub organization or user")
    create.add_argument("--repo", help="the repository (none: an organization hook)")
    create.add_argument("--api-url", help="GitHub's API (Enterprise); default api.github.com")
    _add_create_flags(create)
    create.set_defaults(handler=run_github_create)
    _add_update(verbs, parents, GITHUB_SOURCE)
    _add_read_verbs(verbs, parents, GITHUB_SOURCE)

    gitlab = kinds.add_parser("gitlab", help="manage GitLabSources (webhooks)")
    verbs = gitlab.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", parents=parents, help="create a GitLabSource")
    create.add_argument("name")
    create.add_argument("--project-url", required=True,
                        help="the project, e.g. https://gitlab.com/group/project")
    _add_create_flags(create)
    create.set_defaults(handler=run_gitlab_create)
    _add_update(verbs, parents, GITLAB_SOURCE)
    _add_read_verbs(verbs, parents, GITLAB_SOURCE)


def _add_token_flags(parser: argparse.ArgumentParser) -> None:
    for flag, what in (("secret-token", "the webhook secret that signs deliveries"),
                       ("access-token", "the API token Ripple registers the hook with")):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(f"--{flag}", metavar="VALUE", help=f"{what} (kept in Secret NAME-tokens)")
        group.add_argument(f"--{flag}-ref", metavar="SECRET:KEY", help=f"{what}, from a Secret")


def _add_create_flags(create: argparse.ArgumentParser) -> None:
    create.add_argument("--event-types", required=True, metavar="TYPE,TYPE",
                        help="the events to receive, comma separated (e.g. push,pull_request)")
    _add_token_flags(create)
    create.add_argument("--register-webhook", action="store_true",
                        help="let Ripple register the webhook (needs an access token)")
    create.add_argument("-s", "--sink", required=True, help="where events go, in sink syntax")
    create.add_argument("--ce-override", action="append", metavar="KEY=VALUE",
                        help="a CloudEvent extension added to every event (repeatable)")
    common.add_namespace(create)
    waiting.add_wait_flags(create)


def _add_update(verbs: Any, parents: list[argparse.ArgumentParser], kind: common.Kind) -> None:
    update = verbs.add_parser("update", parents=parents, help=f"change a {kind[2]}")
    update.add_argument("name")
    update.add_argument("--event-types", metavar="TYPE,TYPE", help="the events, comma separated")
    _add_token_flags(update)
    update.add_argument("-s", "--sink", help="where events go, in sink syntax")
    common.add_namespace(update)
    update.set_defaults(handler=lambda args, api: run_update(args, api, kind))


def _add_read_verbs(verbs: Any, parents: list[argparse.ArgumentParser], kind: common.Kind) -> None:
    common.add_read_verbs(
        verbs, parents, kind[2],
        list_handler=lambda args, api: common.list_kind(args, api, kind),
        describe_handler=lambda args, api: common.describe_kind(args, api, kind),
        delete_handler=lambda args, api: common.delete_kind(args, api, kind),
    )


def secret_name(source: str) -> str:
    return f"{source}-tokens"


def token_refs(args: argparse.Namespace, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(spec fields `{secretToken: {secretKeyRef...}}`, literal values for NAME-tokens)."""
    refs: dict[str, Any] = {}
    values: dict[str, str] = {}
    for attr, field in TOKENS:
        value, ref = getattr(args, attr, None), getattr(args, f"{attr}_ref", None)
        if value:
            values[field] = value
            refs[field] = {"secretKeyRef": {"name": secret_name(source), "key": field}}
        elif ref:
            name, sep, key = ref.partition(":")
            if not sep or not name or not key:
                raise errors.Invalid(f"--{attr.replace('_', '-')}-ref {ref!r}: expected SECRET:KEY")
            refs[field] = {"secretKeyRef": {"name": name, "key": key}}
    return refs, values


def split_types(text: str) -> list[str]:
    found = [part.strip() for part in text.split(",") if part.strip()]
    if not found:
        raise errors.Invalid(f"--event-types {text!r}: give at least one event type")
    return found


def _source(kind: common.Kind, name: str, namespace: str, spec: dict[str, Any],
            register_webhook: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if register_webhook:
        meta["annotations"] = {REGISTER_ANNOTATION: "true"}
    return {"apiVersion": f"{kind[0]}/{kind[1]}", "kind": kind[2], "metadata": meta, "spec": spec}


def make_github_source(name: str, namespace: str, *, org: str, repo: str | None,
                       event_types: list[str], tokens: dict[str, Any], sink: dict[str, Any],
                       api_url: str | None = None, overrides: dict[str, str] | None = None,
                       register_webhook: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"ownerAndRepository": f"{org}/{repo}" if repo else org,
                            "eventTypes": event_types, **tokens, "sink": sink}
    if api_url:
        spec["githubAPIURL"] = api_url
    if overrides:
        spec["ceOverrides"] = {"extensions": overrides}
    return _source(GITHUB_SOURCE, name, namespace, spec, register_webhook)


def make_gitlab_source(name: str, namespace: str, *, project_url: str, event_types: list[str],
                       tokens: dict[str, Any], sink: dict[str, Any],
                       overrides: dict[str, str] | None = None,
                       register_webhook: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"projectUrl": project_url, "eventTypes": event_types, **tokens,
                            "sink": sink}
    if overrides:
        spec["ceOverrides"] = {"extensions": overrides}
    return _source(GITLAB_SOURCE, name, namespace, spec, register_webhook)


def _check_tokens(args: argparse.Namespace, tokens: dict[str, Any]) -> None:
    if "secretToken" not in tokens:
        raise errors.Invalid("--secret-token or --secret-token-ref is required: it checks "
                             "that each delivery comes from the forge")
    if args.register_webhook and "accessToken" not in tokens:
        raise errors.Invalid("--register-webhook needs --access-token or --access-token-ref")


def _save_tokens(api: Client, name: str, ns: str, values: dict[str, str]) -> None:
    """NAME-tokens, created or updated with the literal token values (apply's rule)."""
    if values:
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                  "metadata": {"name": secret_name(name), "namespace": ns}, "stringData": values}
        print(apply.apply_one(api, secret, ns))


def run_github_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    tokens, values = token_refs(args, args.name)
    _check_tokens(args, tokens)
    body = make_github_source(
        args.name, ns, org=args.org, repo=args.repo, event_types=split_types(args.event_types),
        tokens=tokens, sink=common.destination(api, args.sink, ns), api_url=args.api_url,
        overrides=common.parse_pairs(args.ce_override, "--ce-override"),
        register_webhook=args.register_webhook)
    return _create(args, api, GITHUB_SOURCE, ns, body, values)


def run_gitlab_create(args: argparse.Namespace, api: Client) -> int:
    ns = common.namespace(args)
    tokens, values = token_refs(args, args.name)
    _check_tokens(args, tokens)
    body = make_gitlab_source(
        args.name, ns, project_url=args.project_url, event_types=split_types(args.event_types),
        tokens=tokens, sink=common.destination(api, args.sink, ns),
        overrides=common.parse_pairs(args.ce_override, "--ce-override"),
        register_webhook=args.register_webhook)
    return _create(args, api, GITLAB_SOURCE, ns, body, values)


def _create(args: argparse.Namespace, api: Client, kind: common.Kind, ns: str,
            body: dict[str, Any], values: dict[str, str]) -> int:
    rtype = common.known_type(api, *kind)
    _save_tokens(api, args.name, ns, values)
    api.call("POST", rtype.path(ns), body)
    print(f"{kind[2]} '{args.name}' created in namespace '{ns}'.")
    waiting.created(args, api, rtype, ns, args.name)
    return 0


def run_update(args: argparse.Namespace, api: Client, kind: common.Kind) -> int:
    tokens, values = token_refs(args, args.name)
    if not (args.event_types or args.sink or tokens):
        raise errors.Invalid("nothing to update: give --event-types, --sink or a token flag")
    ns = common.namespace(args)
    rtype = common.known_type(api, *kind)
    current = api.call("GET", rtype.path(ns, args.name))
    spec = {**(current.get("spec") or {}), **tokens}
    if args.event_types:
        spec["eventTypes"] = split_types(args.event_types)
    if args.sink:
        spec["sink"] = common.destination(api, args.sink, ns)
    _save_tokens(api, args.name, ns, values)
    if spec == current.get("spec"):
        print(f"{kind[2]} '{args.name}' unchanged in namespace '{ns}'.")
        return 0
    api.call("PUT", rtype.path(ns, args.name), {**current, "spec": spec})
    print(f"{kind[2]} '{args.name}' updated in namespace '{ns}'.")
    return 0
