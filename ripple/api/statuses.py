"""The structural schema of `status`: the types of the duck-typed fields any kind reports.

Called by the API server for every write to a `/status` subresource. Ripple's own
reconcilers write status straight to the store, so this guards against other writers: a
`status.physicalSubscription` that is a number, or an `address` that is a list, would
otherwise reach the data plane's informer and the reconcilers, which read these fields
as the Knative duck types (`duckv1.Status`, `AddressStatus`, `SourceStatus`,
`DeliveryStatus`, `SubscribableStatus`, the flows' child statuses, and serving's
`ConfigurationStatusFields`, `RouteStatusFields` and `RevisionStatus`) define them. As a CRD's
structural schema does, only types are checked, a null counts as absent, and fields that
no duck type names pass through untouched.
"""

from __future__ import annotations

from typing import Any

from ripple.api import fields
from ripple.errors import FieldError

Schema = Any
"""`str`, `int` or `bool` (the type), a dict (a mapping's known fields; `"*"`: every value), or a
one-element list (the schema of every item)."""

_CONDITION = {name: str for name in
              ("type", "status", "severity", "lastTransitionTime", "reason", "message")}
_ADDRESS = {"url": str, "name": str, "CACerts": str, "audience": str}
_REFERENCE = {"apiVersion": str, "kind": str, "name": str, "namespace": str, "uid": str}
_DESTINATIONS = ("subscriber", "reply", "deadLetterSink", "sink")
_URIS = {f"{d}{suffix}": str for d in _DESTINATIONS for suffix in ("Uri", "CACerts", "Audience")}
_CHANNEL_STATUS = {"channel": _REFERENCE, "ready": _CONDITION}
_SUBSCRIPTION_STATUS = {"subscription": _REFERENCE, "ready": _CONDITION}
_TRAFFIC_TARGET = {"tag": str, "revisionName": str, "configurationName": str,
                   "latestRevision": bool, "percent": int, "url": str}
_CONTAINER_STATUS = {"name": str, "imageDigest": str}

SCHEMA: dict[str, Schema] = {
    "observedGeneration": int,
    "conditions": [_CONDITION],
    "annotations": {"*": str},
    "address": _ADDRESS,
    "addresses": [_ADDRESS],
    **_URIS,
    "physicalSubscription": _URIS,
    "subscribers": [{"uid": str, "observedGeneration": int, "ready": str, "message": str}],
    "ceAttributes": [{"type": str, "source": str}],
    "channel": _REFERENCE,
    "webhookUrl": str,
    "webhookIDKey": str,
    "channelStatuses": [_CHANNEL_STATUS],
    "subscriptionStatuses": [_SUBSCRIPTION_STATUS],
    "ingressChannelStatus": _CHANNEL_STATUS,
    "branchStatuses": [{
        "filterChannelStatus": _CHANNEL_STATUS,
        "filterSubscriptionStatus": _SUBSCRIPTION_STATUS,
        "subscriberSubscriptionStatus": _SUBSCRIPTION_STATUS,
    }],
    # serving.knative.dev: Service, Configuration, Route, Revision
    "url": str,
    "traffic": [_TRAFFIC_TARGET],
    "latestReadyRevisionName": str,
    "latestCreatedRevisionName": str,
    "logUrl": str,
    "imageDigest": str,
    "containerStatuses": [_CONTAINER_STATUS],
    "initContainerStatuses": [_CONTAINER_STATUS],
    "actualReplicas": int,
    "desiredReplicas": int,
}


def validate(status: object, path: str = "status") -> fields.Errors:
    """Every field of `status` whose type breaks `SCHEMA`, by path; empty when it conforms."""
    errs: fields.Errors = []
    _check(status, SCHEMA, path, errs)
    return errs


def _check(value: object, schema: Schema, path: str, errs: fields.Errors) -> None:
    if value is None:
        return
    if schema is str:
        fields.string(value, path, errs)
    elif schema is int:
        fields.integer(value, path, errs)
    elif schema is bool:
        fields.boolean(value, path, errs)
    elif isinstance(schema, list):
        if not isinstance(value, list):
            errs.append(FieldError(path, fields.wrong_type("a list", value)))
            return
        for i, item in enumerate(value):
            _check(item, schema[0], fields.index(path, i), errs)
    else:
        found = fields.mapping(value, path, errs)
        for name, item in (found or {}).items():
            inner = schema.get(name, schema.get("*"))
            if inner is not None:
                where = fields.key(path, name) if "*" in schema else fields.join(path, name)
                _check(item, inner, where, errs)
