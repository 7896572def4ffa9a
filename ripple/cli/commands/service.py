"""`ripple service create|update|list|describe|delete`: kn's service commands.

Registered by `ripple.cli.main`. The pure cores follow knative/client:
- `edit_template` is kn's `ConfigurationEditFlags.Apply` (`configuration_edit_flags.go`,
  `pkg/serving/config_changes.go`) for the flags Ripple has: `--command`/`--function`/
  `--image`, `--env`, `--concurrency-limit`, `--scale-*`, `--timeout`, `--annotation`.
  Like kn it stamps `client.knative.dev/updateTimestamp` on the template whenever a
  template flag is given, so every such update makes a new Revision.
- `compute_traffic` is kn's `traffic.Compute` (`pkg/traffic/compute.go`): untag, tag
  (`@latest` or a revision), then `--traffic` sets the split, whose percents must add up
  to 100 (kn would give a remainder to the one revision left out; Ripple asks for all of it).
- `wait_ready` is kn's wait (`pkg/wait/wait_for_ready.go`): poll until the Service's
  observedGeneration catches up and Ready is True, print each new Ready message, fail on a
  Ready=False that lasts the error window, or on the timeout.
The commands only build and send Knative objects and read their status; the serving
reconcilers and the router do the rest. `revision` and `route` reuse `SERVICE`, `REVISION`,
`ROUTE` and `traffic_of_revision` from here.
"""

from __future__ import annotations

import argparse
import copy
import os
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from ripple import errors
from ripple.cli import output
from ripple.cli.client import ApiError, Client
from ripple.cli.commands import common, waiting

SERVICE = ("serving.knative.dev", "v1", "Service")
REVISION = ("serving.knative.dev", "v1", "Revision")
ROUTE = ("serving.knative.dev", "v1", "Route")

# Knative's names (kept here, not imported from ripple.api, so the CLI stays light).
SERVICE_LABEL = "serving.knative.dev/service"
GENERATION_LABEL = "serving.knative.dev/configurationGeneration"
FUNCTION_ANNOTATION = "ripple.dev/function"  # serving.workload.FUNCTION_ANNOTATION
AUTOSCALING = "autoscaling.knative.dev/"
MIN_SCALE = AUTOSCALING + "min-scale"
MAX_SCALE = AUTOSCALING + "max-scale"
TARGET = AUTOSCALING + "target"
UPDATE_TIMESTAMP = "client.knative.dev/updateTimestamp"
LATEST = "@latest"
# Knative's default for a Service without `spec.traffic`: all of it to the latest revision.
DEFAULT_TRAFFIC = [{"percent": 100, "latestRevision": True}]
CONTAINER_NAME = "user-container"

WAIT_TIMEOUT = 600.0  # kn's --wait-timeout default

TEMPLATE_FLAGS = ("run_command", "function", "image", "env", "concurrency_limit", "scale_min",
                  "scale_max", "scale_target", "annotation", "timeout")


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    service = commands.add_parser("service", aliases=["ksvc"],
                                  help="manage Knative Services (kn service)")
    verbs = service.add_subparsers(dest="verb", required=True, metavar="VERB")

    create = verbs.add_parser("create", parents=parents, help="create a Service")
    create.add_argument("name")
    add_template_flags(create, update=False)
    add_tag_flag(create)
    add_wait_flags(create)
    common.add_namespace(create)
    create.set_defaults(handler=run_create)

    update = verbs.add_parser("update", parents=parents,
                              help="change a Service: a template change makes a new Revision")
    update.add_argument("name")
    add_template_flags(update, update=True)
    update.add_argument("--traffic", action="append", metavar="REF=PERCENT[,REF=PERCENT]",
                        help="the traffic split; REF is a revision, a tag or @latest; "
                             "percents add up to 100")
    add_tag_flag(update)
    update.add_argument("--untag", action="append", metavar="TAG", help="remove a tag")
    add_wait_flags(update)
    common.add_namespace(update)
    update.set_defaults(handler=run_update)

    common.add_read_verbs(
        verbs, parents, "Service",
        list_handler=run_list, describe_handler=run_describe, delete_handler=run_delete,
        describe_outputs=("json", "yaml", "url"),
    )


def add_template_flags(parser: argparse.ArgumentParser, *, update: bool) -> None:
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--command", dest="run_command",
                      help='the command to run, split like a shell: "python app.py"')
    what.add_argument("--function", metavar="FILE:FUNCTION",
                      help="serve a Python function with `ripple function serve`")
    parser.add_argument("--image", help="the container image (runs on Kubernetes)")
    unset = " (KEY- removes it)" if update else ""
    parser.add_argument("-e", "--env", action="append", metavar="KEY=VALUE",
                        help=f"an environment variable; repeatable{unset}")
    parser.add_argument("--concurrency-limit", type=int, metavar="N",
                        help="containerConcurrency: the hard limit of requests per replica")
    parser.add_argument("--scale-min", type=int, metavar="N", help="min-scale annotation")
    parser.add_argument("--scale-max", type=int, metavar="N", help="max-scale annotation")
    parser.add_argument("--scale-target", type=int, metavar="N",
                        help="target annotation: the concurrency each replica should keep")
    parser.add_argument("--timeout", type=int, metavar="S",
                        help="timeoutSeconds: the longest a request may take (default 300)")
    parser.add_argument("-a", "--annotation", action="append", metavar="KEY=VALUE",
                        help=f"an annotation on the Service and its Revisions{unset}")


def add_tag_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tag", action="append", metavar="REV=TAG",
                        help="tag a revision (or @latest): TAG gets its own URL")


def add_wait_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-wait", action="store_true", help="do not wait for Ready")
    parser.add_argument("--wait-timeout", type=float, default=WAIT_TIMEOUT, metavar="S",
                        help=f"seconds to wait for Ready (default {WAIT_TIMEOUT:g})")


# --- building and editing the Service ---------------------------------------------------


def make_service(name: str, namespace: str) -> dict[str, Any]:
    """An empty Service for `edit_template` to fill in."""
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {"containers": [{}]}}},
    }


def template_changed(args: argparse.Namespace) -> bool:
    """kn's AnyMutation: was any flag that changes the template given?"""
    return any(getattr(args, flag, None) not in (None, []) for flag in TEMPLATE_FLAGS)


def edit_template(
    service: dict[str, Any],
    args: argparse.Namespace,
    *,
    now: datetime,
    cwd: str,
    removals: bool,
) -> dict[str, Any]:
    """A copy of `service` with the template flags applied, as kn's Apply does."""
    result = copy.deepcopy(service)
    if not template_changed(args):
        return result
    meta = result.setdefault("metadata", {})
    spec = result.setdefault("spec", {})
    template = spec.setdefault("template", {})
    tmeta = template.setdefault("metadata", {})
    tspec = template.setdefault("spec", {})
    containers = tspec.setdefault("containers", [])
    if not containers:
        containers.append({})
    container = containers[0]
    annotations = dict(tmeta.get("annotations") or {})

    if args.run_command is not None:
        words = _split_command(args.run_command)
        container["command"] = words[:1]
        if words[1:]:
            container["args"] = words[1:]
        else:
            container.pop("args", None)
        annotations.pop(FUNCTION_ANNOTATION, None)
    if args.function is not None:
        target = function_target(args.function, cwd)
        container["command"] = ["ripple", "function", "serve", target]
        container.pop("args", None)
        annotations[FUNCTION_ANNOTATION] = target
    if args.image is not None:
        if not args.image.strip():
            raise errors.Invalid("--image: must not be empty")
        container["image"] = args.image
    if args.env:
        container["env"] = edit_env(container.get("env") or [], args.env, removals=removals)
        if not container["env"]:
            del container["env"]
    if args.concurrency_limit is not None:
        if args.concurrency_limit < 0:
            raise errors.Invalid(
                f"--concurrency-limit {args.concurrency_limit}: must not be less than 0")
        tspec["containerConcurrency"] = args.concurrency_limit
    if args.timeout is not None:
        if args.timeout < 1:
            raise errors.Invalid(f"--timeout {args.timeout}: must be 1 second or more")
        tspec["timeoutSeconds"] = args.timeout
    for flag, key, value in (("--scale-min", MIN_SCALE, args.scale_min),
                             ("--scale-max", MAX_SCALE, args.scale_max),
                             ("--scale-target", TARGET, args.scale_target)):
        if value is not None:
            smallest = 1 if flag == "--scale-target" else 0
            if value < smallest:
                raise errors.Invalid(f"{flag} {value}: must be {smallest} or more")
            annotations[key] = str(value)
    if args.scale_min is not None and args.scale_max is not None and args.scale_max > 0 \
            and args.scale_min > args.scale_max:
        raise errors.Invalid(f"--scale-min {args.scale_min}: must not exceed --scale-max "
                             f"{args.scale_max}")
    if args.annotation:
        edits = edit_pairs({}, args.annotation, "--annotation", removals=removals)
        gone = [flag[:-1] for flag in args.annotation if removals and _is_removal(flag)]
        annotations.update(edits)
        service_annotations = dict(meta.get("annotations") or {})
        # kn: autoscaling annotations belong on the template only.
        service_annotations.update({k: v for k, v in edits.items()
                                    if not k.startswith(AUTOSCALING)})
        for key in gone:
            annotations.pop(key, None)
            service_annotations.pop(key, None)
        if service_annotations:
            meta["annotations"] = service_annotations
        else:
            meta.pop("annotations", None)
    annotations[UPDATE_TIMESTAMP] = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tmeta["annotations"] = annotations
    return result


def _split_command(text: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError as failure:
        raise errors.Invalid(f"--command {text!r}: {failure}") from None
    if not words:
        raise errors.Invalid("--command: must not be empty")
    return words


def function_target(text: str, cwd: str) -> str:
    """FILE:FUNCTION with FILE made absolute: the replica may run in another directory."""
    path, sep, function = text.rpartition(":")
    if not sep or not path or not function:
        raise errors.Invalid(f"--function {text!r}: expected FILE:FUNCTION, e.g. handler.py:main")
    if not function.isidentifier():
        raise errors.Invalid(f"--function {text!r}: {function!r} is not a Python name")
    path = os.path.normpath(os.path.join(cwd, os.path.expanduser(path)))
    if not os.path.isfile(path):
        raise errors.Invalid(f"--function {text!r}: no file {path}")
    return f"{path}:{function}"


def _is_removal(flag: str) -> bool:
    return flag.endswith("-") and "=" not in flag


def edit_pairs(current: dict[str, str], flags: list[str], flag_name: str, *,
               removals: bool) -> dict[str, str]:
    """`KEY=VALUE` sets, `KEY-` removes (update only), in the order given."""
    result = dict(current)
    for flag in flags:
        if removals and _is_removal(flag):
            result.pop(flag[:-1], None)
            continue
        result.update(common.parse_pairs([flag], flag_name))
    return result


def edit_env(
    env: list[dict[str, Any]], flags: list[str], *, removals: bool
) -> list[dict[str, Any]]:
    """kn's env edit: a set variable keeps its place, a new one goes last, `KEY-` removes."""
    result = [dict(item) for item in env]
    for flag in flags:
        if removals and _is_removal(flag):
            result = [item for item in result if item.get("name") != flag[:-1]]
            continue
        (key, value), = common.parse_pairs([flag], "--env").items()
        for item in result:
            if item.get("name") == key:
                item.pop("valueFrom", None)
                item["value"] = value
                break
        else:
            result.append({"name": key, "value": value})
    return result


# --- traffic ------------------------------------------------------------------------------


def split_flags(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated flags, as cobra's StringSlice reads them."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def parse_traffic(values: list[str] | None) -> list[tuple[str, int]]:
    """`--traffic REF=PERCENT,...` into (ref, percent) pairs; the percents must sum to 100."""
    pairs: list[tuple[str, int]] = []
    for item in split_flags(values):
        ref, sep, text = item.partition("=")
        if not sep:
            ref, text = LATEST, item  # kn: a bare percent is @latest's
        text = text.strip().removesuffix("%")
        if not ref or not text:
            raise errors.Invalid(f"--traffic {item!r}: expected REF=PERCENT")
        if not text.isdigit() or int(text) > 100:
            raise errors.Invalid(f"--traffic {item!r}: the percent must be a whole number "
                                 "from 0 to 100")
        if any(ref == seen for seen, _ in pairs):
            raise errors.Invalid(f"--traffic: {ref} is given twice; give each once")
        pairs.append((ref, int(text)))
    total = sum(percent for _, percent in pairs)
    if pairs and total != 100:
        raise errors.Invalid(f"--traffic: the percents add up to {total}, they must add up to 100")
    return pairs


def parse_tags(values: list[str] | None) -> list[tuple[str, str]]:
    """`--tag REV=TAG` pairs; REV is a revision name or @latest, given once each."""
    pairs: list[tuple[str, str]] = []
    for item in split_flags(values):
        revision, sep, tag = item.partition("=")
        if not sep or not revision or not tag:
            raise errors.Invalid(f"--tag {item!r}: expected REVISION=TAG or @latest=TAG")
        if revision == LATEST and any(r == LATEST for r, _ in pairs):
            raise errors.Invalid("--tag: @latest is given twice; give it once")
        pairs.append((revision, tag))
    return pairs


def _is_latest(target: dict[str, Any]) -> bool:
    return bool(target.get("latestRevision", not target.get("revisionName")))


def _target(tag: str, revision: str, percent: int) -> dict[str, Any]:
    target: dict[str, Any] = {"percent": percent}
    if tag:
        target["tag"] = tag
    if revision:
        target.update(revisionName=revision, latestRevision=False)
    else:
        target["latestRevision"] = True
    return target


def compute_traffic(
    current: list[dict[str, Any]] | None,
    *,
    traffic: list[tuple[str, int]],
    tags: list[tuple[str, str]],
    untags: list[str],
    service: str,
    revisions: set[str] | None = None,
) -> list[dict[str, Any]]:
    """kn's `traffic.Compute` over `spec.traffic`; `revisions`, when given, are the
    Service's Revisions, and a `--traffic` or `--tag` naming none of them is refused."""
    targets = [dict(t) for t in (current or DEFAULT_TRAFFIC)]
    missing = [tag for tag in untags if not any(t.get("tag") == tag for t in targets)]
    if missing:
        raise errors.Invalid(f"--untag: tag(s) {', '.join(missing)} not present for any "
                             f"revisions of service {service}")
    for tag in untags:
        for target in targets:
            if target.get("tag") == tag:
                target.pop("tag")
                break

    def tag_present(tag: str) -> bool:
        return any(t.get("tag") == tag for t in targets)

    for revision, tag in tags:
        if revision == LATEST:
            latest = next((t for t in targets if _is_latest(t)), None)
            existing = (latest or {}).get("tag", "")
            if existing == tag:
                continue
            if tag_present(tag):
                raise errors.Invalid(f"--tag {revision}={tag}: the tag exists already; add "
                                     f"--untag {tag} to move it")
            if existing:
                raise errors.Invalid(f"--tag {revision}={tag}: the latest revision has the tag "
                                     f"{existing!r} already; add --untag {existing} to replace it")
            if latest is not None:
                latest["tag"] = tag
            else:
                targets.append(_target(tag, "", 0))
            continue
        if any(t.get("tag") == tag and t.get("revisionName") == revision for t in targets):
            continue
        if tag_present(tag):
            raise errors.Invalid(f"--tag {revision}={tag}: the tag exists already; add "
                                 f"--untag {tag} to move it")
        if revisions is not None and revision not in revisions:
            raise errors.Invalid(f"--tag {revision}={tag}: service {service} has no revision "
                                 f"{revision!r}")
        untagged = next((t for t in targets if t.get("revisionName") == revision), None)
        if untagged is not None and not untagged.get("tag"):
            untagged["tag"] = tag
        else:
            targets.append(_target(tag, revision, 0))

    if traffic:
        for target in targets:
            target["percent"] = 0
        for ref, percent in traffic:
            if ref == LATEST:
                latest = next((t for t in targets if _is_latest(t)), None)
                if latest is not None:
                    latest["percent"] = percent
                else:
                    targets.append(_target("", "", percent))
                continue
            by_tag = next((t for t in targets if t.get("tag") == ref), None)
            by_name = next((t for t in targets if t.get("revisionName") == ref), None)
            found = by_tag or by_name
            if found is not None:
                found["percent"] = percent
                continue
            if revisions is not None and ref not in revisions:
                raise errors.Invalid(f"--traffic {ref}={percent}: service {service} has no "
                                     f"revision or tag {ref!r}")
            targets.append(_target("", ref, percent))
    return [t for t in targets if t.get("tag") or t.get("percent")]


def traffic_of_revision(revision: str, service: dict[str, Any]) -> tuple[int, list[str]]:
    """The percent and tags `status.traffic` gives a revision (kn's trafficAndTagsForRevision)."""
    percent, tags = 0, []
    for target in (service.get("status") or {}).get("traffic") or []:
        if target.get("revisionName") == revision:
            percent += int(target.get("percent") or 0)
            if target.get("tag"):
                tags.append(str(target["tag"]))
    return percent, tags


# --- waiting: `waiting.wait_ready` (shared with `--wait` and `ripple wait`) ---------------

NotReady = waiting.NotReady
ready_state = waiting.ready_state
wait_ready = waiting.wait_ready


# --- the commands --------------------------------------------------------------------------


def check_wait_timeout(args: argparse.Namespace) -> None:
    if not args.no_wait and not args.wait_timeout > 0:
        raise errors.Invalid(f"--wait-timeout {args.wait_timeout:g}: must be seconds above 0")


def run_create(args: argparse.Namespace, api: Client) -> int:
    check_wait_timeout(args)
    if args.run_command is None and args.function is None and args.image is None:
        raise errors.Invalid("service create: give --command, --function or --image")
    ns = common.namespace(args)
    body = edit_template(make_service(args.name, ns), args, now=common.now(), cwd=os.getcwd(),
                         removals=False)
    tags = parse_tags(args.tag)
    if tags:  # kn: tags on create send all the traffic to @latest
        body["spec"]["traffic"] = compute_traffic(
            [], traffic=[(LATEST, 100)], tags=tags, untags=[], service=args.name)
    rtype = common.known_type(api, *SERVICE)
    api.call("POST", rtype.path(ns), body)
    return _finish(args, api, ns, "created", "Creating", before="")


def run_update(args: argparse.Namespace, api: Client) -> int:
    check_wait_timeout(args)
    traffic, tags = parse_traffic(args.traffic), parse_tags(args.tag)
    untags = split_flags(args.untag)
    if not template_changed(args) and not (traffic or tags or untags):
        raise errors.Invalid("service update: nothing to change; give a template flag "
                             "(--command, --env...) or --traffic, --tag, --untag")
    ns = common.namespace(args)
    rtype = common.known_type(api, *SERVICE)
    current = api.call("GET", rtype.path(ns, args.name))
    edited = edit_template(current, args, now=common.now(), cwd=os.getcwd(), removals=True)
    if traffic or tags or untags:
        known = {rev["metadata"]["name"] for rev in revisions_of(api, ns, args.name)}
        spec = edited.setdefault("spec", {})
        computed = compute_traffic(
            spec.get("traffic"), traffic=traffic, tags=tags, untags=untags, service=args.name,
            revisions=known)
        if spec.get("traffic") or computed != DEFAULT_TRAFFIC:
            spec["traffic"] = computed
    before = str((current.get("status") or {}).get("latestReadyRevisionName") or "")
    if edited.get("spec") == current.get("spec") and \
            edited.get("metadata") == current.get("metadata"):
        print(f"Service '{args.name}' updated in namespace '{ns}'.")
        print("No new revision has been created.")
        return 0
    api.call("PUT", rtype.path(ns, args.name), edited)
    return _finish(args, api, ns, "updated", "Updating", before=before)


def _finish(args: argparse.Namespace, api: Client, ns: str, done: str,
            doing: str, *, before: str) -> int:
    if args.no_wait:
        print(f"Service '{args.name}' {done} in namespace '{ns}'.")
        return 0
    print(f"{doing} Service '{args.name}' in namespace '{ns}':\n")
    rtype = common.known_type(api, *SERVICE)

    def get() -> dict[str, Any]:
        return api.call("GET", rtype.path(ns, args.name))

    ready = wait_ready(get, f"service '{args.name}'", timeout=args.wait_timeout, out=sys.stdout)
    print()
    print(ready_line(args.name, ready, done, before))
    return 0


def ready_line(name: str, service: dict[str, Any], done: str, before: str) -> str:
    """kn's last words: which revision serves, and the URL it is reached at."""
    latest = str((service.get("status") or {}).get("latestReadyRevisionName") or "")
    url = output.url_of(service)
    if before and before == latest:
        return (f"Service '{name}' with latest revision '{latest}' (unchanged) is available "
                f"at URL:\n{url}")
    return f"Service '{name}' {done} to latest revision '{latest}' is available at URL:\n{url}"


def revisions_of(api: Client, ns: str, service: str | None) -> list[dict[str, Any]]:
    """A namespace's Revisions (those of `service` when given), newest generation first."""
    rtype = common.known_type(api, *REVISION)
    items = common.list_objects(api, rtype, ns)
    if service:
        items = [r for r in items
                 if ((r.get("metadata") or {}).get("labels") or {}).get(SERVICE_LABEL) == service]
    return sort_revisions(items)


def sort_revisions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """kn's order: by namespace, service, then generation, newest first."""
    def key(rev: dict[str, Any]) -> tuple[str, str, int, str]:
        meta = rev.get("metadata") or {}
        labels = meta.get("labels") or {}
        text = str(labels.get(GENERATION_LABEL, ""))
        generation = int(text) if text.isdigit() else 0
        return (str(meta.get("namespace", "")), str(labels.get(SERVICE_LABEL, "")), -generation,
                str(meta.get("name", "")))

    return sorted(items, key=key)


def run_list(args: argparse.Namespace, api: Client) -> int:
    return common.list_kind(args, api, SERVICE)


def run_describe(args: argparse.Namespace, api: Client) -> int:
    if args.output:
        return common.describe_kind(args, api, SERVICE)
    ns = common.namespace(args)
    rtype = common.known_type(api, *SERVICE)
    service = api.call("GET", rtype.path(ns, args.name))
    try:
        revisions = revisions_of(api, ns, args.name)
    except ApiError:
        revisions = []
    print("\n".join(describe_lines(service, revisions, common.now())))
    return 0


def run_delete(args: argparse.Namespace, api: Client) -> int:
    return common.delete_kind(args, api, SERVICE, "successfully deleted")


def bullet(percent: int, ready: str) -> str:
    """kn describe's traffic bullet: `100%` serving, `  +` Ready, `  !` failed, `  ?` unknown."""
    symbol = {"True": "%" if percent > 0 else "+", "False": "!"}.get(ready, "?")
    return f"{percent:3d}{symbol}" if percent else f"   {symbol}"


def revision_lines(service: dict[str, Any], revisions: list[dict[str, Any]],
                   now: datetime) -> list[str]:
    """kn describe's Revisions section: those taking traffic, then the latest ones, newest first."""
    status = service.get("status") or {}
    by_name = {str((r.get("metadata") or {}).get("name")): r for r in revisions}
    shown: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for target in status.get("traffic") or []:
        rev = by_name.get(str(target.get("revisionName")))
        if rev is not None:
            shown.append((rev, target))
    named = {str((r.get("metadata") or {}).get("name")) for r, _ in shown}
    for key in ("latestCreatedRevisionName", "latestReadyRevisionName"):
        name = str(status.get(key) or "")
        if name in by_name and name not in named:
            shown.append((by_name[name], {}))
            named.add(name)
    lines = ["Revisions:"]
    for rev, target in _newest_first(shown):
        meta = rev.get("metadata") or {}
        name = str(meta.get("name", ""))
        percent = int(target.get("percent") or 0)
        ready, reason, _ = _ready_of(rev)
        if target.get("latestRevision"):
            header = f"@latest ({name})"
        elif name == status.get("latestReadyRevisionName"):
            header = f"{name} (current @latest)"
        elif name == status.get("latestCreatedRevisionName"):
            header = f"{name} (latest created)"
        else:
            header = name
        if target.get("tag"):
            header += f" #{target['tag']}"
        generation = (meta.get("labels") or {}).get(GENERATION_LABEL, "")
        header += f" [{generation}] ({output.age(meta.get('creationTimestamp'), now)})"
        lines.append(f"  {bullet(percent, ready)}  {header}")
        if ready == "False":
            lines.append(f"        Error:     {reason}")
        container = ((rev.get("spec") or {}).get("containers") or [{}])[0]
        function = (meta.get("annotations") or {}).get(FUNCTION_ANNOTATION)
        if function:
            lines.append(f"        Function:  {function}")
        elif container.get("command"):
            words = [*container.get("command", []), *container.get("args", [])]
            lines.append(f"        Command:   {shlex.join(str(w) for w in words)}")
        if container.get("image"):
            lines.append(f"        Image:     {container['image']}")
        rstatus = rev.get("status") or {}
        if "actualReplicas" in rstatus or "desiredReplicas" in rstatus:
            lines.append(f"        Replicas:  {rstatus.get('actualReplicas', 0)}/"
                         f"{rstatus.get('desiredReplicas', 0)}")
    if len(lines) == 1:
        lines.append("  (none yet)")
    return lines


def _newest_first(pairs: list[tuple[dict[str, Any], dict[str, Any]]]
                  ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    def generation(pair: tuple[dict[str, Any], dict[str, Any]]) -> int:
        text = str(((pair[0].get("metadata") or {}).get("labels") or {}).get(GENERATION_LABEL, ""))
        return int(text) if text.isdigit() else 0

    return sorted(pairs, key=generation, reverse=True)


def _ready_of(obj: dict[str, Any]) -> tuple[str, str, str]:
    found = output.condition(obj, "Ready") or {}
    return (str(found.get("status") or "Unknown"), str(found.get("reason") or ""),
            str(found.get("message") or ""))


def describe_lines(service: dict[str, Any], revisions: list[dict[str, Any]],
                   now: datetime) -> list[str]:
    """kn service describe: the metadata, URLs, the Revisions and the Conditions."""
    from ripple.cli.commands import resources  # it imports `apply`; only describe needs it

    meta = service.get("metadata") or {}
    status = service.get("status") or {}
    lines = [f"Name:        {meta.get('name', '')}", f"Namespace:   {meta.get('namespace', '')}"]
    if meta.get("annotations"):
        shown = ", ".join(f"{k}={v}" for k, v in sorted(meta["annotations"].items()))
        lines.append(f"Annotations: {shown}")
    lines.append(f"Age:         {output.age(meta.get('creationTimestamp'), now)}".rstrip())
    lines.append(f"URL:         {status.get('url') or ''}".rstrip())
    address = (status.get("address") or {}).get("url")
    if address:
        lines.append(f"Address:     {address}")
    lines += [""] + revision_lines(service, revisions, now)
    lines += [""] + resources.condition_lines(output.conditions(service), now)
    return lines
