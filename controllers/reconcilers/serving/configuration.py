"""ReconcileKind for Configuration: one immutable Revision per template change, and the
latest created and latest ready Revision names. Pure.

Follows `pkg/reconciler/configuration/configuration.go`:
1. The Revision for the current `metadata.generation` is named by the template, else
   `NAME-0000N` (`resources.make_revision`). It is created when absent; a Revision of
   that name that another owner controls, or (a template name reused) one made for
   another generation, is refused as Knative's `CheckNameAvailability` does:
   `RevisionFailed`, and nothing is created.
2. Its name becomes `latestCreatedRevisionName`; if it failed, Ready is False
   (`RevisionFailed`) and `latestReadyRevisionName` keeps naming the older good one.
3. `latestReadyRevisionName` is the first Ready Revision among this Configuration's, from
   the current latest ready one's generation up to the current generation, newest first
   with a template-named one first: so `latestRevision` traffic only moves to a new
   Revision once it is Ready, and never moves back.

Every Revision it owns is returned as a child, as stored (`resources.echo_revision`): the
applier deletes owned children that are not wanted, and old Revisions keep serving the
traffic that names them. They are never changed: a Revision is immutable.
"""

from __future__ import annotations

import copy

from controllers.reconciling import Context, Object, Result
from controllers.reconcilers.serving import resources
from ripple.api import meta
from ripple.api.serving import configuration_lifecycle as lifecycle
from ripple.api.serving import revision_lifecycle, revision_types


def owns(configuration: Object, revision: Object) -> bool:
    """Controlled by this Configuration: by uid when both have one, else by label."""
    uid = meta.metadata(configuration).get("uid")
    controller = next((r for r in meta.metadata(revision).get("ownerReferences") or []
                       if isinstance(r, dict) and r.get("controller")), None)
    if uid and controller is not None:
        return controller.get("uid") == uid
    if controller is not None and controller.get("kind") != "Configuration":
        return False
    return meta.labels_of(revision).get(revision_types.CONFIGURATION_LABEL) == meta.key(configuration)[1]


def reconcile(configuration: Object, ctx: Context) -> Result:
    status = copy.deepcopy(configuration.get("status") or {})
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, name = meta.key(configuration)
    generation = resources.generation(configuration)
    own = [r for r in ctx.observed.list(revision_types.KIND, namespace) if owns(configuration, r)]
    children = [resources.echo_revision(r) for r in own]
    wanted = resources.revision_name(configuration)
    existing = ctx.observed.get(revision_types.API_VERSION, revision_types.KIND, namespace, wanted)
    status["observedGeneration"] = meta.metadata(configuration).get("generation")

    if existing is not None and not owns(configuration, existing):
        lifecycle.mark_revision_creation_failed(
            status, f'revisions.serving.knative.dev "{wanted}" already exists and is not '
                    f'owned by Configuration "{name}"', now=now)
        return Result(status, children=tuple(children))
    if existing is not None and revision_types.generation_of(existing) not in (0, generation):
        lifecycle.mark_revision_creation_failed(
            status, f'revisions.serving.knative.dev "{wanted}" already exists for generation '
                    f"{revision_types.generation_of(existing)}: give the template a new name",
            now=now)
        return Result(status, children=tuple(children))
    if existing is None:
        children.append(resources.make_revision(configuration))

    lifecycle.set_latest_created_revision_name(status, wanted, now=now)
    if existing is not None and revision_lifecycle.is_failed(existing):
        ready = revision_lifecycle.ready_condition(existing) or {}
        lifecycle.mark_latest_created_failed(status, wanted, str(ready.get("message", "")), now=now)
    _latest_ready(configuration, own, status, ctx)
    return Result(status, children=tuple(children))


def _latest_ready(configuration: Object, own: list[Object], status: Object, ctx: Context) -> None:
    generation = resources.generation(configuration)
    by_name = {meta.key(r)[1]: r for r in own}
    current = status.get("latestReadyRevisionName")
    start = 0
    if current:
        if current in by_name:
            start = revision_types.generation_of(by_name[current])
        else:
            lifecycle.mark_latest_ready_deleted(status, current, now=ctx.now)
            status.pop("latestReadyRevisionName", None)
    template_name = ((configuration.get("spec") or {}).get("template") or {}).get("metadata") or {}
    named = template_name.get("name")
    candidates = [r for r in own if start <= revision_types.generation_of(r) <= generation]
    candidates.sort(key=lambda r: (meta.key(r)[1] != named, -revision_types.generation_of(r)))
    for revision in candidates:
        if revision_lifecycle.is_ready(revision):
            lifecycle.set_latest_ready_revision_name(status, meta.key(revision)[1], now=ctx.now)
            return
