"""A GitHub webhook delivery as the CloudEvent Knative's GitHubSource emits: called by the
receiver after `signatures.verify_github`.

- `type` `dev.knative.source.github.<X-GitHub-Event>` ("source", singular);
- `source` `https://github.com/<ownerAndRepository>`;
- `id` the `X-GitHub-Delivery` GUID, which GitHub keeps on redelivery, so the receiver
  dedupes on it;
- `datacontenttype` `application/json`, data the delivery's JSON bytes as received
  (upstream re-marshals a typed struct and so drops fields it does not model);
- `subject` and extensions per event kind, from `SubjectAndExtensionsFromGitHubEvent` in
  knative-extensions/eventing-github `pkg/common/events.go`: `_KINDS` is that switch as a
  table. Kinds it does not list get the common extensions and no subject.

Where Ripple differs from upstream, on purpose:
- extension values are CloudEvents strings: numbers in decimal, booleans `true`/`false`;
- an extension or subject whose payload field is absent, null or empty is left out
  (upstream sets `""` or `0`, e.g. `installation` on a push without an app);
- a payload field of the wrong JSON type is a 400 naming it, as upstream's typed decoding
  refuses it too;
- a body GitHub sent as `application/x-www-form-urlencoded` (a hook whose content type is
  "form") is accepted: its `payload` field holds the JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from ripple import cloudevents as ce
from ripple import errors
from ripple.api.sources import github_source_types
from ripple.errors import FieldError

EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
CONTENT_TYPE = "application/json"

_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*")

# Extensions as (name, JSON path in the payload). Names are CloudEvents attribute names.
Extensions = tuple[tuple[str, str], ...]
OWNER = (("owner", "repository.owner.login"),)
REPO = (("repository", "repository.name"),)
SENDER = (("sender", "sender.login"),)
ACTION = (("action", "action"),)
INSTALLATION = (("installation", "installation.id"),)
ORG = (("owner", "organization.login"),)
COMMON = OWNER + REPO + SENDER
COMMON_ACTION = COMMON + ACTION

Subject = Callable[[Mapping[str, Any]], str | None]


def _field(path: str) -> Subject:
    return lambda payload: _scalar(payload, path)


def _last_segment(path: str) -> Subject:
    """`.../compare/a10867b14bb7...000000000000` -> `a10867b14bb7...000000000000`."""
    def subject(payload: Mapping[str, Any]) -> str | None:
        url = _scalar(payload, path)
        return url.rsplit("/", 1)[1] if url and "/" in url else None
    return subject


def _page_names(payload: Mapping[str, Any]) -> str | None:
    """gollum: the updated pages' names joined by commas, e.g. `Home,Main`."""
    pages = payload.get("pages")
    if not isinstance(pages, list):
        return None
    return ",".join(_scalar(page, "page_name", f"pages[{i}].") or ""
                    for i, page in enumerate(pages) if isinstance(page, dict)) or None


# X-GitHub-Event -> (subject, extensions): upstream's switch, case by case.
_KINDS: dict[str, tuple[Subject, Extensions]] = {
    "check_run": (_field("check_run.id"), COMMON_ACTION),
    "check_suite": (_field("check_suite.id"), COMMON_ACTION),
    # .../commit/a10867b#commitcomment-29186860 -> a10867b#commitcomment-29186860
    "commit_comment": (_last_segment("comment.html_url"), COMMON_ACTION),
    "create": (_field("ref_type"), COMMON + (("ref", "ref"),)),
    "delete": (_field("ref_type"), COMMON + (("ref", "ref"),)),
    "deployment": (_field("deployment.id"), COMMON),
    "deployment_status": (_field("deployment.id"), COMMON),
    "fork": (_field("forkee.id"), COMMON),
    "gollum": (_page_names, COMMON),
    "installation": (_field("installation.id"), INSTALLATION + SENDER + ACTION),
    "integration_installation": (_field("installation.id"), INSTALLATION + SENDER + ACTION),
    "installation_repositories": (_field("installation.id"), INSTALLATION + SENDER + ACTION),
    "integration_installation_repositories": (
        _field("installation.id"), INSTALLATION + SENDER + ACTION),
    # .../issues/2#issuecomment-393304133 -> 2#issuecomment-393304133
    "issue_comment": (_last_segment("comment.html_url"), COMMON_ACTION),
    "issues": (_field("issue.number"),
               COMMON_ACTION + (("label", "label.name"), ("assignee", "assignee.login"))),
    "label": (_field("label.name"), COMMON_ACTION + (("label", "label.name"),)),
    "member": (_field("member.id"), COMMON_ACTION),
    "membership": (_field("member.id"), ORG + (("scope", "scope"),) + SENDER + ACTION),
    "milestone": (_field("milestone.number"), COMMON_ACTION),
    "organization": (_field("action"), ORG + SENDER + ACTION),
    "org_block": (_field("action"), ORG + SENDER + ACTION),
    "page_build": (_field("id"), COMMON),
    "ping": (_field("hook_id"), COMMON),
    "project_card": (_field("action"), COMMON_ACTION),
    "project_column": (_field("action"), COMMON_ACTION),
    "project": (_field("action"), COMMON_ACTION),
    "public": (_field("repository.id"), COMMON),
    "pull_request": (_field("pull_request.number"),
                     COMMON + INSTALLATION + ACTION
                     + (("number", "number"), ("label", "label.name"),
                        ("assignee", "assignee.login"))),
    "pull_request_review_comment": (_field("comment.id"), COMMON + INSTALLATION + ACTION),
    "pull_request_review": (_field("review.id"),
                            COMMON + INSTALLATION + ACTION + (("review", "review.state"),)),
    # .../compare/a10867b14bb7...000000000000 -> a10867b14bb7...000000000000
    "push": (_last_segment("compare"),
             COMMON + INSTALLATION + (("pusher", "pusher.name"), ("ref", "ref"),
                                      ("created", "created"), ("deleted", "deleted"),
                                      ("forced", "forced"))),
    "release": (_field("release.tag_name"),
                COMMON + INSTALLATION + ACTION + (("release", "release.name"),)),
    "repository": (_field("repository.id"), COMMON_ACTION),
    "repository_vulnerability_alert": (_field("alert.id"), ACTION),
    "security_advisory": (_field("security_advisory.ghsa_id"), ACTION),
    "status": (_field("sha"),
               COMMON + (("state", "state"), ("name", "name"), ("context", "context"))),
    "team": (_field("team.id"), SENDER + ACTION),
    "team_add": (_field("repository.id"), COMMON),
    "watch": (_field("repository.id"), COMMON_ACTION),
}
_OTHER: tuple[Subject, Extensions] = (lambda _payload: None, COMMON + INSTALLATION + ACTION)


def event_name(headers: Mapping[str, str]) -> str:
    """The `X-GitHub-Event` value (`push`, `ping`, ...); a 400 when it is missing or odd."""
    name = headers.get(EVENT_HEADER.lower(), "").strip()
    if not name:
        raise errors.Invalid(FieldError(EVENT_HEADER, "required header is missing"))
    if _EVENT_NAME.fullmatch(name) is None:
        raise errors.Invalid(FieldError(
            EVENT_HEADER, f"{name!r} is not a GitHub event name (lower-case letters, digits, _)"))
    return name


def to_event(headers: Mapping[str, str], body: bytes, owner_and_repository: str) -> ce.CloudEvent:
    """The CloudEvent for one delivery; `headers` have lower-cased names.

    Raises `errors.Invalid` (400) naming the header or body field that is wrong.
    """
    name = event_name(headers)
    delivery = headers.get(DELIVERY_HEADER.lower(), "").strip()
    if not delivery:
        raise errors.Invalid(FieldError(DELIVERY_HEADER, "required header is missing"))
    data = _json_body(headers, body)
    payload = _parse(data)
    subject_of, extensions = _KINDS.get(name, _OTHER)
    attributes: dict[str, object] = {
        "specversion": "1.0",
        "id": delivery,
        "source": github_source_types.event_source(owner_and_repository),
        "type": github_source_types.event_type(name),
        "datacontenttype": CONTENT_TYPE,
    }
    subject = subject_of(payload)
    if subject:
        attributes["subject"] = subject
    for extension, path in extensions:
        value = _scalar(payload, path)
        if value and value.isprintable():
            attributes.setdefault(extension, value)
    ce.validate(attributes)
    return ce.CloudEvent(attributes, data)


def _json_body(headers: Mapping[str, str], body: bytes) -> bytes:
    """The JSON bytes: the body, or a form body's `payload` field."""
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return body
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    if "payload" not in fields:
        raise errors.Invalid(
            FieldError("body.payload", "a form-encoded delivery needs a payload field"))
    return fields["payload"][0].encode()


def _parse(data: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise errors.Invalid(FieldError("body", f"not JSON: {reason}")) from None
    if not isinstance(payload, dict):
        raise errors.Invalid(FieldError("body", "must be a JSON object"))
    return payload


def _scalar(payload: Mapping[str, Any], path: str, prefix: str = "") -> str | None:
    """The string form of the payload value at a dotted path, None when absent or null.

    A value of the wrong JSON type (an object where a string is due, a string where an
    object is due) is a 400 naming `body.<path>`.
    """
    value: Any = payload
    walked: list[str] = []
    for key in path.split("."):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            where = f"body.{prefix}{'.'.join(walked)}"
            raise errors.Invalid(FieldError(where, "must be an object"))
        value = value.get(key)
        walked.append(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise errors.Invalid(FieldError(f"body.{prefix}{path}", "must be a string, number or boolean"))
