"""Who may send to a Broker or Channel: `ripple.dev/ingress-auth: <secret-name>` (issue #15).

Knative's answer is EventPolicy with OIDC, which needs a cluster. Ripple's local equivalent:
the annotation on a Broker, Channel or InMemoryChannel names a Secret of its namespace, and
its ingress then requires `Authorization: Bearer <token>` where the token is any value of
that Secret (conventionally under the key `token`; every key counts, so a rotation can add
the new token beside the old one, then drop the old). A Secret that is missing, or has no
value, refuses everyone.

`IngressTokens` is an informer listener built by the composition root, one per ingress
(`channels.ingress.Ingress`): it recomputes its `required` table only when a resource of
its kinds or a Secret changed, so a rotation takes effect as soon as the informer sees the
Secret (well under a second), with no restart and no read of the store per request. The
ingress does one dict lookup per request, and none at all while no resource is annotated.

`sink_token` is the other side: the token a sender (a source's delivery, `ripple event
send`) uses for a Destination that refers to such a resource.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

from channels import dispatching

log = logging.getLogger(__name__)

ANNOTATION = "ripple.dev/ingress-auth"
PREFERRED_KEY = "token"
"""The key a sender takes its token from when the Secret has several."""
GUARDED_KINDS = frozenset({"Broker", "Channel", "InMemoryChannel"})


class Reading(Protocol):
    """What is read from the informer (`ripple.informers.Informer`)."""

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]: ...


def secret_name(obj: Mapping[str, Any]) -> str | None:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    name = annotations.get(ANNOTATION)
    return name.strip() or None if isinstance(name, str) else None


def secret_values(secret: Mapping[str, Any] | None) -> dict[str, bytes]:
    """Every non-empty value of a Secret, by key (`data` is base64; `stringData` wins)."""
    if secret is None:
        return {}
    values: dict[str, bytes] = {}
    data = secret.get("data")
    for key, text in (data.items() if isinstance(data, dict) else ()):
        try:
            values[str(key)] = base64.b64decode(str(text).replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            continue
    plain = secret.get("stringData")
    for key, text in (plain.items() if isinstance(plain, dict) else ()):
        values[str(key)] = str(text).encode()
    return {k: v.strip() for k, v in values.items() if v.strip()}


def required_tokens(objects: Iterable[Mapping[str, Any]], informer: Reading
                    ) -> dict[tuple[str, str], frozenset[bytes]]:
    """(namespace, name) -> the tokens accepted, for each annotated object (pure but for
    the informer's cache)."""
    required: dict[tuple[str, str], frozenset[bytes]] = {}
    for obj in objects:
        name = secret_name(obj)
        if name is None:
            continue
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        required[(namespace, meta["name"])] = frozenset(
            secret_values(informer.get("Secret", namespace, name)).values())
    return required


class IngressTokens:
    """The tokens each annotated resource of `kinds` requires, kept current by `sync`."""

    def __init__(self, informer: Reading, kinds: Collection[str]) -> None:
        self.informer, self.kinds = informer, frozenset(kinds)
        self.watched = self.kinds | {"Secret"}
        self.required: dict[tuple[str, str], frozenset[bytes]] = {}

    def sync(self, changed: set[str] | None = None) -> None:
        if changed is not None and not changed & self.watched:
            return
        required = required_tokens(
            (o for kind in sorted(self.kinds) for o in self.informer.list(kind)), self.informer)
        for key in required.keys() - self.required.keys():
            log.info("ingress requires a token", extra={"resource": "/".join(key)})
        for key in [k for k, tokens in required.items() if not tokens]:
            log.warning("ingress refuses every request: its ingress-auth Secret is missing or empty",
                        extra={"resource": "/".join(key)})
        self.required = required


def sink_token(informer: Reading, namespace: str, destination: Any) -> str | None:
    """The token to send to a Destination whose `ref` is an annotated Broker, Channel or
    InMemoryChannel: its Secret's `token` value, else its first by key; None otherwise."""
    ref = destination.get("ref") if isinstance(destination, dict) else None
    if not isinstance(ref, dict) or ref.get("kind") not in GUARDED_KINDS:
        return None
    ns = ref.get("namespace") or namespace
    obj = informer.get(str(ref["kind"]), ns, str(ref.get("name", "")))
    name = secret_name(obj) if obj is not None else None
    if name is None:
        return None
    return pick(secret_values(informer.get("Secret", ns, name)))


def pick(values: Mapping[str, bytes]) -> str | None:
    if not values:
        return None
    chosen = values.get(PREFERRED_KEY) or values[sorted(values)[0]]
    return chosen.decode("utf-8", "replace")


def secure(informer: Reading, namespace: str, destinations: Mapping[str, Any]
           ) -> tuple[tuple[str, dispatching.Secured], ...]:
    """(phase, Secured) for each destination (a Knative Destination, or None) that needs a
    token (`sink_token`) or carries `CACerts`: a target's `secured`."""
    secured = []
    for phase, destination in destinations.items():
        if not isinstance(destination, dict):
            continue
        token = sink_token(informer, namespace, destination)
        ca_certs = destination.get("CACerts")
        ca_certs = ca_certs if isinstance(ca_certs, str) and ca_certs.strip() else None
        if token or ca_certs:
            secured.append((phase, dispatching.Secured(token=token, ca_certs=ca_certs)))
    return tuple(secured)
