"""A GitLab webhook delivery as the CloudEvent Knative's GitLabSource emits: called by the
receiver after `signatures.verify_gitlab`.

From knative-extensions/eventing-gitlab `pkg/adapter/receive_adapter.go`:
- `type` `dev.knative.sources.gitlab.<kind>` ("sources", plural), where `<kind>` is the
  `X-Gitlab-Event` header without its " Hook" suffix, lower-cased, spaces turned to `_`
  (`Merge Request Hook` gives `merge_request`). A header without the suffix is a 400;
- `source` the source's `spec.projectUrl`;
- extension `comgitlabevent` the raw `X-Gitlab-Event` value; no `subject`;
- `datacontenttype` `application/json`, data the delivery's JSON bytes as received.

Ripple differs in the `id`. Knative gives every delivery a fresh UUID, so a delivery
GitLab retries (after a timeout, or "Resend request") reaches the sink twice. Ripple
takes GitLab's own delivery identity: the `Idempotency-Key` header (GitLab 17.4+, the
same on every retry of one delivery), else `X-Gitlab-Event-UUID` (one per event), else
`new_id()`. The receiver dedupes on the id, so redeliveries are published once.

`event_type_option` maps a header to the `spec.eventTypes` option (GitLab's project-hook
setting) that makes GitLab send it, so the receiver can drop what the spec did not ask for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from ripple import cloudevents as ce
from ripple import errors
from ripple.api.sources import gitlab_source_types
from ripple.errors import FieldError

EVENT_HEADER = "X-Gitlab-Event"
EVENT_UUID_HEADER = "X-Gitlab-Event-UUID"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_EXTENSION = "comgitlabevent"
CONTENT_TYPE = "application/json"

_SUFFIX = " Hook"
_KIND = re.compile(r"[a-z0-9_]+")

# Kinds whose option the CRD's enum (gitlab_source_types.EVENT_KINDS) does not list:
# `Build Hook` is the pre-9.x name of `Job Hook`; the others are project-hook options
# GitLab has and Knative's CRD does not, named as GitLab's hooks API names them.
_OTHER_OPTIONS = {
    "build": "job_events",
    "emoji": "emoji_events",
    "member": "member_events",
    "milestone": "milestone_events",
    "vulnerability": "vulnerability_events",
}


def event_kind(header: str | None) -> str:
    """`Merge Request Hook` -> `merge_request`; a 400 naming the header otherwise."""
    if not header:
        raise errors.Invalid(FieldError(EVENT_HEADER, "required header is missing"))
    if not header.endswith(_SUFFIX):
        raise errors.Invalid(FieldError(
            EVENT_HEADER, f"{header!r} is not a GitLab hook event: it must end in {_SUFFIX!r}"))
    kind = header.removesuffix(_SUFFIX).replace(" ", "_").lower()
    if _KIND.fullmatch(kind) is None:
        raise errors.Invalid(FieldError(
            EVENT_HEADER, f"{header!r} is not a GitLab hook event: letters, digits and spaces"))
    return kind


def event_type_option(header_value: str | None) -> str:
    """The `spec.eventTypes` option whose deliveries carry this `X-Gitlab-Event` header:
    `Push Hook` -> `push_events`, `Confidential Issue Hook` -> `confidential_issues_events`.

    A hook event no known option sends (`System Hook`) gives `<kind>_events`, a name no
    valid spec lists, so the receiver ignores it.
    """
    kind = event_kind(header_value)
    option = gitlab_source_types.event_type_option(kind) or _OTHER_OPTIONS.get(kind)
    return option or f"{kind}_events"


def to_event(headers: Mapping[str, str], body: bytes, project_url: str, *,
             new_id: Callable[[], str]) -> ce.CloudEvent:
    """The CloudEvent for one delivery; `headers` have lower-cased names.

    Raises `errors.Invalid` (400) naming the header or the body when it is wrong.
    """
    header = headers.get(EVENT_HEADER.lower())
    kind = event_kind(header)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise errors.Invalid(FieldError("body", f"not JSON: {reason}")) from None
    if not isinstance(payload, dict):
        raise errors.Invalid(FieldError("body", "must be a JSON object"))
    attributes: dict[str, object] = {
        "specversion": "1.0",
        "id": delivery_id(headers) or new_id(),
        "source": gitlab_source_types.event_source(project_url),
        "type": gitlab_source_types.event_type(kind),
        "datacontenttype": CONTENT_TYPE,
        EVENT_EXTENSION: header,
    }
    ce.validate(attributes)
    return ce.CloudEvent(attributes, body)


def delivery_id(headers: Mapping[str, str]) -> str | None:
    """GitLab's identity of the delivery: `Idempotency-Key`, else `X-Gitlab-Event-UUID`."""
    for name in (IDEMPOTENCY_HEADER, EVENT_UUID_HEADER):
        value = headers.get(name.lower(), "").strip()
        if value:
            return value
    return None
