"""Revision defaulting (Knative's `revision_defaults.go`), also applied to the template of a
Configuration or Service (`RevisionTemplateSpec.SetDefaults`).

- `timeoutSeconds` 300 when unset or 0, and `containerConcurrency` 0 (config-defaults);
- container names: `user-container` for a single container, `user-container-N` for the
  N-th of several;
- the serving container's `readinessProbe` (the only container, or each one with
  `ports`): a TCP probe when it has no httpGet, tcpSocket or exec handler, and
  `successThreshold` 1 when unset;
- every `volumeMounts` entry is `readOnly`.
Resource requests and limits from config-defaults are not set: Ripple's defaults have none.
Knative's `responseStartTimeoutSeconds` and `idleTimeoutSeconds` stay unset (upstream
sets them only when config-defaults asks for them).
"""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.serving import revision_types


def set_defaults(revision: dict[str, Any]) -> None:
    meta.set_defaults(revision)
    if revision.get("spec") is None:
        revision["spec"] = {}
    set_spec_defaults(revision["spec"])


def set_template_defaults(template: Any) -> None:
    """A Configuration's or Service's `spec.template`."""
    if not isinstance(template, dict):
        return
    if template.get("spec") is None:
        template["spec"] = {}
    set_spec_defaults(template["spec"])


def set_spec_defaults(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    if spec.get("timeoutSeconds") in (None, 0):
        spec["timeoutSeconds"] = revision_types.DEFAULT_TIMEOUT_SECONDS
    if spec.get("containerConcurrency") is None:
        spec["containerConcurrency"] = revision_types.DEFAULT_CONTAINER_CONCURRENCY
    found = revision_types.containers(spec)
    if len(found) != len(spec.get("containers") or []):
        return  # a malformed list: validation reports it
    for i, container in enumerate(found):
        if not container.get("name"):
            container["name"] = (revision_types.DEFAULT_CONTAINER_NAME if len(found) == 1
                                 else f"{revision_types.DEFAULT_CONTAINER_NAME}-{i}")
        # probes only on the serving container: the only one, or the one with ports
        if len(found) == 1 or container.get("ports"):
            _apply_probes(container)
        for mount in container.get("volumeMounts") or []:
            if isinstance(mount, dict):
                mount["readOnly"] = True


def _apply_probes(container: dict[str, Any]) -> None:
    probe = container.get("readinessProbe")
    if probe is None:
        probe = container["readinessProbe"] = {}
    if not isinstance(probe, dict):
        return
    if not any(probe.get(h) is not None for h in ("httpGet", "tcpSocket", "exec")):
        probe["tcpSocket"] = {"port": 0}
    if not probe.get("successThreshold"):
        probe["successThreshold"] = 1
