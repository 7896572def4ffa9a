"""Knative's Channelable duck: the spec and status parts Channel and InMemoryChannel share.

Called by the `channel_*` and `in_memory_channel_*` modules, and by the Subscription
reconciler (which writes `spec.subscribers`) and the channels' reconcilers (which write
`status.subscribers`). Upstream: `knative/eventing:pkg/apis/duck/v1/{channelable,
subscribable}_types.go` and `pkg/apis/messaging/v1/in_memory_channel_validation.go`.

- `spec.subscribers[]`: one SubscriberSpec per Subscription, resolved to URIs (`uid` and
  `generation` are the Subscription's; its `delivery` wins over the channel's);
- `spec.delivery`: the default DeliverySpec of the channel's subscriptions;
- `status.subscribers[]`: one `{uid, observedGeneration, ready, message}` per subscriber,
  keyed by `uid` (Knative's patchMergeKey), set with `set_subscriber_status`.

Ripple admits `spec.subscribers` on both channels and checks its shape. Knative's Channel
webhook refuses any (its Subscriptions write to the backing channel), but a Ripple Channel
may serve its subscribers itself, and a manifest fetched from a running mesh carries them.
Each subscriber needs a `uid`, unique in the list (it is the merge key), and at least one
of `subscriberUri` and `replyUri` (Knative's InMemoryChannel rule); URIs are absolute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict
from urllib.parse import urlsplit

from ripple.api import conditions, duck, fields
from ripple.errors import FieldError

SPEC_FIELDS = ("subscribers", "delivery")
SUBSCRIBER_FIELDS = (
    "name", "uid", "generation", "subscriberUri", "subscriberCACerts", "subscriberAudience",
    "replyUri", "replyCACerts", "replyAudience", "delivery", "auth",
)
_URIS = ("subscriberUri", "replyUri")
_STRINGS = ("name", "subscriberCACerts", "subscriberAudience", "replyCACerts", "replyAudience")
READY_VALUES = (conditions.TRUE, conditions.FALSE, conditions.UNKNOWN)

Status = dict[str, Any]


class SubscriberStatus(TypedDict, total=False):
    """One entry of `status.subscribers[]`, as `set_subscriber_status` writes it."""

    uid: str
    observedGeneration: int
    ready: str  # "True", "False" or "Unknown"
    message: str


def set_defaults(spec: object, namespace: str) -> None:
    """The namespace of every dead-letter sink ref: the channel's, then each subscriber's."""
    if not isinstance(spec, dict):
        return
    duck.default_delivery(spec.get("delivery"), namespace)
    subscribers = spec.get("subscribers")
    for subscriber in subscribers if isinstance(subscribers, list) else []:
        if isinstance(subscriber, dict):
            duck.default_delivery(subscriber.get("delivery"), namespace)


def validate(spec: dict[str, Any], path: str) -> fields.Errors:
    """`subscribers` and `delivery` of a channel spec; the caller checks the spec's fields."""
    errs: fields.Errors = []
    if fields.present(spec, "subscribers"):
        errs.extend(_validate_subscribers(spec["subscribers"], fields.join(path, "subscribers")))
    if fields.present(spec, "delivery"):
        errs.extend(duck.validate_delivery(spec["delivery"], fields.join(path, "delivery")))
    return errs


def _validate_subscribers(value: object, path: str) -> fields.Errors:
    errs: fields.Errors = []
    if not isinstance(value, list):
        return [FieldError(path, fields.wrong_type("a list of subscribers", value))]
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = fields.index(path, i)
        subscriber = fields.mapping(item, where, errs)
        if subscriber is None:
            continue
        fields.known_fields(subscriber, SUBSCRIBER_FIELDS, where, errs)
        uid = fields.required(subscriber, "uid", where, errs)
        if uid is not None and fields.string(uid, fields.join(where, "uid"), errs) is not None:
            if uid in seen:
                errs.append(FieldError(fields.join(where, "uid"), (
                    f'duplicate value "{uid}": each Subscription is listed once'
                )))
            seen.add(uid)
        if fields.present(subscriber, "generation"):
            generation = fields.integer(
                subscriber["generation"], fields.join(where, "generation"), errs
            )
            if generation is not None and generation < 0:
                errs.append(FieldError(fields.join(where, "generation"), (
                    f"invalid value {generation}: must be zero or more"
                )))
        if not any(fields.present(subscriber, name) for name in _URIS):
            errs.append(FieldError(where, (
                "expected at least one of subscriberUri or replyUri, got neither"
            )))
        for name in _URIS:
            if fields.present(subscriber, name):
                errs.extend(_validate_absolute_uri(subscriber[name], fields.join(where, name)))
        for name in _STRINGS:
            if fields.present(subscriber, name):
                fields.string(subscriber[name], fields.join(where, name), errs)
        if fields.present(subscriber, "delivery"):
            errs.extend(duck.validate_delivery(
                subscriber["delivery"], fields.join(where, "delivery")
            ))
        if fields.present(subscriber, "auth"):
            fields.mapping(subscriber["auth"], fields.join(where, "auth"), errs)
    return errs


def _validate_absolute_uri(value: object, path: str) -> fields.Errors:
    errs: fields.Errors = []
    uri = fields.string(value, path, errs)
    if uri is None:
        return errs
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError as error:
        return [FieldError(path, f'invalid value "{uri}": {error}')]
    if not parts.scheme or not host:
        errs.append(FieldError(path, (
            f'invalid value "{uri}": must be an absolute URI, with a scheme and a host'
        )))
    return errs


def set_subscriber_status(
    status: Status, uid: str, ready: str, message: str = "", *, observed_generation: int
) -> None:
    """Add or replace the `status.subscribers[]` entry of one Subscription, keyed by uid.

    `ready` is a condition status ("True", "False", "Unknown"); an entry keeps its place in
    the list, and a new one goes last.
    """
    if ready not in READY_VALUES:
        raise ValueError(f"ready must be one of {', '.join(READY_VALUES)}, got {ready!r}")
    entry: SubscriberStatus = {
        "uid": uid, "observedGeneration": observed_generation, "ready": ready,
    }
    if message:
        entry["message"] = message
    found = _subscribers(status)
    for i, existing in enumerate(found):
        if existing.get("uid") == uid:
            found[i] = entry
            break
    else:
        found.append(entry)
    status["subscribers"] = found


def remove_subscriber_status(status: Status, uid: str) -> None:
    """Drop the entry of a Subscription that no longer subscribes."""
    found = [s for s in _subscribers(status) if s.get("uid") != uid]
    if found:
        status["subscribers"] = found
    else:
        status.pop("subscribers", None)


def subscriber_status(status: Status, uid: str) -> Mapping[str, Any] | None:
    """The entry for one Subscription, as the Subscription reconciler reads it."""
    for entry in _subscribers(status):
        if entry.get("uid") == uid:
            return entry
    return None


def _subscribers(status: Status) -> list[Mapping[str, Any]]:
    """The stored entries, read as written; `set_subscriber_status` adds typed ones."""
    found = status.get("subscribers")
    if not isinstance(found, list):
        return []
    return [s for s in found if isinstance(s, dict)]
