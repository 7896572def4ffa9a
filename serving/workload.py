"""What a Revision runs on one machine: its first container as a process, or a function. Pure.

Called by `serving.runtime` (the revision runtime) for each Revision it is asked to scale.
Knative's runtime contract: the serving container's `command` + `args` run in `workingDir`
with its `env`, plus `PORT` (the port the runtime picked; the replica must listen on it)
and `K_REVISION`, `K_CONFIGURATION`, `K_SERVICE`. `timeoutSeconds` is also handed to the
process as `RIPPLE_TIMEOUT_SECONDS`, which the function host enforces.

A *function* revision is served by forking replicas from a zygote (`serving.zygote`)
rather than by starting a fresh interpreter per replica (issue #10, P5). A revision is a
function revision when either
- its template carries the annotation `ripple.dev/function: FILE:FUNCTION` (the command,
  if any, is then ignored), or
- its command + args are `ripple function serve FILE:FUNCTION [flags]` (`ripple` by name
  or by path), as `ripple service create --function` writes them. The flags are not
  read: the replicas' timeout is the revision's `timeoutSeconds`, their port the one the
  zygote binds.
A relative FILE is taken from `workingDir`, as the process would.

A container with an `image` and no `command` cannot run without a container engine:
`plan` returns a `Workload` whose `error` says so (reason `CommandRequired`, the same
message the Revision reconciler gives), and the runtime starts nothing for it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from ripple.api.serving import revision_types

FUNCTION_ANNOTATION = "ripple.dev/function"
TIMEOUT_ENV = "RIPPLE_TIMEOUT_SECONDS"  # serving.hosting.TIMEOUT_ENV, without importing the host
REASON_COMMAND_REQUIRED = "CommandRequired"
DEFAULT_GRACE = 30.0


@dataclasses.dataclass(frozen=True)
class Workload:
    """How to run one replica of a revision (the port is added per replica)."""

    argv: tuple[str, ...] = ()
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    cwd: str | None = None
    function: str | None = None
    """FILE:FUNCTION when replicas fork from a zygote; `argv` is then unused."""
    container: dict[str, Any] = dataclasses.field(default_factory=dict)
    timeout: float = float(revision_types.DEFAULT_TIMEOUT_SECONDS)
    grace: float = DEFAULT_GRACE
    """Seconds between SIGTERM and SIGKILL on scale-down: `timeoutSeconds` when the
    revision sets it (Knative's terminationGracePeriodSeconds), else `DEFAULT_GRACE`."""
    error: str | None = None
    reason: str | None = None


def plan(revision: dict[str, Any]) -> Workload:
    metadata = revision.get("metadata") or {}
    spec = revision.get("spec") or {}
    container = revision_types.serving_container(spec) or {}
    given: Any = spec.get("timeoutSeconds")
    timeout = float(given) if _positive(given) else float(revision_types.DEFAULT_TIMEOUT_SECONDS)
    grace = timeout if _positive(given) else DEFAULT_GRACE
    cwd = container.get("workingDir") or None
    env = {**contract_env(metadata), **container_env(container), TIMEOUT_ENV: f"{timeout:g}"}
    command = [str(c) for c in container.get("command") or []]
    argv = (*command, *[str(a) for a in container.get("args") or []])
    annotations = metadata.get("annotations") or {}
    target = annotations.get(FUNCTION_ANNOTATION) or function_target(argv)
    common = dict(env=env, cwd=cwd, container=container, timeout=timeout, grace=grace)
    if target:
        return Workload(function=_resolve(str(target), cwd), **common)  # type: ignore[arg-type]
    if not command:
        name = container.get("name", revision_types.DEFAULT_CONTAINER_NAME)
        if container.get("image"):
            message = (f'container "{name}" has the image "{container["image"]}" and no command: '
                       "on one machine Ripple runs a container as a process, so add a command "
                       "(and args) to spec.template.spec.containers[0], or run this Service on "
                       "Kubernetes, where the image runs")
        else:
            message = f'container "{name}": a command is required to run it as a process'
        return Workload(error=message, reason=REASON_COMMAND_REQUIRED, **common)  # type: ignore[arg-type]
    return Workload(argv=argv, **common)  # type: ignore[arg-type]


def contract_env(metadata: dict[str, Any]) -> dict[str, str]:
    """Knative's K_REVISION, K_CONFIGURATION and K_SERVICE (the last two from the labels)."""
    labels = metadata.get("labels") or {}
    env = {"K_REVISION": str(metadata.get("name", ""))}
    if labels.get(revision_types.CONFIGURATION_LABEL):
        env["K_CONFIGURATION"] = str(labels[revision_types.CONFIGURATION_LABEL])
    if labels.get(revision_types.SERVICE_LABEL):
        env["K_SERVICE"] = str(labels[revision_types.SERVICE_LABEL])
    return env


def container_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's literal `env` (name/value). `valueFrom` needs Kubernetes objects
    (Secrets, ConfigMaps, the downward API) and is skipped here."""
    found: dict[str, str] = {}
    for item in container.get("env") or []:
        if isinstance(item, dict) and item.get("name") and "valueFrom" not in item:
            found[str(item["name"])] = str(item.get("value", ""))
    return found


def function_target(argv: tuple[str, ...]) -> str | None:
    """FILE:FUNCTION of `ripple function serve FILE:FUNCTION ...`, else None."""
    if len(argv) >= 4 and os.path.basename(argv[0]) == "ripple" and argv[1:3] == ("function", "serve"):
        return argv[3]
    return None


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _resolve(target: str, cwd: str | None) -> str:
    path, sep, function = target.rpartition(":")
    if not sep or not cwd or os.path.isabs(path):
        return target
    return f"{os.path.join(cwd, path)}:{function}"
