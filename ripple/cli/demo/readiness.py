"""The CI demo's gate: every object `ripple up -f` applied is Ready before the first push.

Called by `ripple.cli.demo.ci` (and the CI flow's e2e fixture). The objects are read from
the example's files by the same file walk and loader `ripple up -f` uses
(`controllers.platforms.local.manifests`, `ripple.api.loading`), so the gate waits on what
was applied, not on a list of its own that can drift from the example.

Why every object and not the Sequence alone: a Sequence is Ready once its channels and
subscriptions are, and a subscription resolves a Service as soon as the Service has an
address. Ripple's Route has one from the start (Knative's Route gets it only once its
traffic targets are routable), so the Sequence was Ready up to 1.1 s before `ci-checkout`
and `ci-test` had a Ready Revision, and the demo's former list of ten objects let it go on
up to 1.0 s before `ci-test` was Ready (in 7 of 11 starts measured, most of them under
load). Until a Route takes
traffic the router answers 404, and `ci-test` has no retry: a push that reached it then
would be dead-lettered and reported as an error.

Ready is read as `kubectl wait --for condition=Ready` reads it, through the API: the
condition's status once `status.observedGeneration` has caught up
(`ripple.cli.commands.waiting.condition_state`). Core kinds (the Secrets) have no
conditions and are not waited on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controllers.platforms.local import manifests
from ripple.api import loading, meta, registry
from ripple.cli.client import ApiError
from ripple.cli.commands import waiting

POLL_INTERVAL = 0.05


@dataclass(frozen=True)
class Applied:
    """One object of the example, as the API files it."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @property
    def path(self) -> str:
        """Its URL path on the API (the plural from the kind registry the server serves)."""
        plural = registry.lookup(self.api_version, self.kind).plural
        return f"/apis/{self.api_version}/namespaces/{self.namespace}/{plural}/{self.name}"

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def example_objects(directory: Path) -> list[Applied]:
    """Every object `ripple up -f directory` applies that reports a Ready condition, in
    the order it applies them."""
    found: list[Applied] = []
    for file in manifests.manifest_files([directory]):
        for doc in loading.load_documents(file.read_text(encoding="utf-8"),
                                          as_json=file.suffix == ".json"):
            api_version, kind = str(doc.get("apiVersion") or ""), str(doc.get("kind") or "")
            if "/" not in api_version:  # the core group: Secrets, which have no conditions
                continue
            namespace, name = meta.key(doc)
            found.append(Applied(api_version, kind, namespace, name))
    return found


def not_ready(obj: dict[str, Any] | None) -> str | None:
    """Why an object is not Ready yet, in one phrase; None when it is."""
    if obj is None:
        return "not found"
    generation = meta.metadata(obj).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and observed != generation:
        return f"generation {generation} not observed yet (status.observedGeneration {observed})"
    status, reason, message = waiting.condition_state(obj, "Ready")
    if status == "True":
        return None
    return (f"Ready={status}" + (f" {reason}" if reason else "")
            + (f": {message}" if message else ""))


def wait_all_ready(
    objects: Iterable[Applied],
    get: Callable[[Applied], dict[str, Any] | None],
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = POLL_INTERVAL,
) -> None:
    """Poll each object not yet Ready (`get`: the object, None when absent) until all are.
    On the timeout: `waiting.NotReady` naming every object still not Ready, and why."""
    pending: Sequence[Applied] = list(objects)
    deadline = clock() + timeout
    while True:
        why = {obj: not_ready(get(obj)) for obj in pending}
        pending = [obj for obj in pending if why[obj] is not None]
        if not pending:
            return
        if clock() >= deadline:
            raise waiting.NotReady(
                f"{len(pending)} object(s) not Ready after {timeout:g} s: "
                + "; ".join(f"{obj} ({obj.api_version}): {why[obj]}" for obj in pending))
        sleep(interval)


def api_getter(
    call: Callable[[str, str], dict[str, Any]],
) -> Callable[[Applied], dict[str, Any] | None]:
    """`get` for `wait_all_ready` over a client's `call(method, path)`: 404 is None, and any
    other refusal is raised (a gate that took a 401 for "not Ready" would wait in vain)."""
    def get(obj: Applied) -> dict[str, Any] | None:
        try:
            return call("GET", obj.path)
        except ApiError as failure:
            if failure.code == 404:
                return None
            raise
    return get
