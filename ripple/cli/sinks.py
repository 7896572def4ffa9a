"""kn's sink syntax: parse `--sink`, `--dl-sink` and `--to` values, and print Destinations back.

Called by the `trigger`, `broker` and `event` commands. Everything here is pure: parsing
gives a `Sink`; turning a Sink into a Knative Destination or a URL is the commands' job,
because a `group/version/resource:name` sink needs discovery to learn its kind.

The syntax follows knative/client `pkg/flags/sink`:

    broker:NAME[:NS]   eventing.knative.dev/v1 Broker
    channel:NAME[:NS]  messaging.knative.dev/v1 Channel
    ksvc:NAME[:NS]     serving.knative.dev/v1 Service (also `kservice:`)
    svc:NAME[:NS]      core v1 Service (also `service:`)
    GROUP/VERSION/RESOURCE:NAME[:NS]   any addressable resource
    http(s)://...      a URI, as is
    NAME               a Knative Service in the current namespace
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ripple import errors

USAGE = (
    "a sink is broker:NAME, channel:NAME, ksvc:NAME, svc:NAME, GROUP/VERSION/RESOURCE:NAME "
    "(each optionally followed by :NAMESPACE), an http(s):// URL, or a bare Knative Service NAME"
)

# prefix -> (group, version, resource plural, kind); the aliases mirror kn's.
PREFIXES: dict[str, tuple[str, str, str, str]] = {
    "broker": ("eventing.knative.dev", "v1", "brokers", "Broker"),
    "channel": ("messaging.knative.dev", "v1", "channels", "Channel"),
    "ksvc": ("serving.knative.dev", "v1", "services", "Service"),
    "kservice": ("serving.knative.dev", "v1", "services", "Service"),
    "svc": ("", "v1", "services", "Service"),
    "service": ("", "v1", "services", "Service"),
}

# The prefix kn prints for a (group, resource); the first alias of each wins.
_SHORT = {(g, r): p for p, (g, _v, r, _k) in reversed(list(PREFIXES.items()))}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@dataclass(frozen=True)
class SinkRef:
    """A reference to a resource; `kind` is None until discovery fills it in."""

    group: str
    version: str
    resource: str
    name: str
    namespace: str
    kind: str | None = None

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True)
class Sink:
    """Exactly one of `uri` and `ref` is set."""

    uri: str | None = None
    ref: SinkRef | None = None


def parse_sink(text: str, namespace: str) -> Sink:
    """Parse one sink value; `namespace` is the current one, used when the value names none."""
    text = text.strip()
    if not text:
        raise errors.Invalid(f"sink is required: {USAGE}")
    if text.startswith(("http://", "https://")):
        if len(text.split("://", 1)[1]) == 0:
            raise errors.Invalid(f"sink {text!r} has no host: {USAGE}")
        return Sink(uri=text)
    parts = text.split(":")
    if len(parts) == 1:
        prefix, name, ns = "ksvc", parts[0], ""
    elif len(parts) in (2, 3):
        prefix, name, ns = parts[0], parts[1], parts[2] if len(parts) == 3 else ""
    else:
        raise errors.Invalid(f"sink {text!r} has too many ':': {USAGE}")
    if not _DNS_LABEL.match(name) or (ns and not _DNS_LABEL.match(ns)):
        raise errors.Invalid(f"sink {text!r} does not name a resource: {USAGE}")
    ref = _ref_for(prefix, text)
    return Sink(ref=SinkRef(ref[0], ref[1], ref[2], name, ns or namespace, ref[3]))


def _ref_for(prefix: str, text: str) -> tuple[str, str, str, str | None]:
    """(group, version, resource, kind) for a sink prefix."""
    if prefix.lower() in PREFIXES:
        return PREFIXES[prefix.lower()]
    pieces = prefix.split("/")
    if len(pieces) == 3 and all(pieces):
        return pieces[0], pieces[1], pieces[2].lower(), None
    if len(pieces) == 2 and all(pieces):  # core group: v1/services
        return "", pieces[0], pieces[1].lower(), None
    raise errors.Invalid(f"sink {text!r} has an unknown prefix {prefix!r}: {USAGE}")


def to_destination(sink: Sink) -> dict[str, object]:
    """The Knative Destination (`ref` or `uri`) for a sink whose kind is known."""
    if sink.uri is not None:
        return {"uri": sink.uri}
    assert sink.ref is not None
    if sink.ref.kind is None:
        raise errors.Invalid(f"the kind of sink resource {sink.ref.resource!r} is unknown")
    return {
        "ref": {
            "apiVersion": sink.ref.api_version,
            "kind": sink.ref.kind,
            "name": sink.ref.name,
            "namespace": sink.ref.namespace,
        }
    }


def format_destination(dest: dict[str, object] | None, namespace: str) -> str:
    """A Destination as kn prints it in SINK columns: `ksvc:name`, `broker:b:other-ns`, a URI."""
    if not dest:
        return ""
    uri = str(dest.get("uri") or "")
    ref = dest.get("ref")
    if not isinstance(ref, dict):
        return uri
    group, _, version = str(ref.get("apiVersion", "")).rpartition("/")
    resource = _guess_plural(str(ref.get("kind", "")))
    prefix = _SHORT.get((group, resource))
    if prefix is None:
        prefix = f"{group}/{version}/{resource}" if group else f"{version}/{resource}"
    text = f"{prefix}:{ref.get('name', '')}"
    ref_ns = ref.get("namespace")
    if ref_ns and ref_ns != namespace:
        text += f":{ref_ns}"
    return f"{text} {uri}" if uri else text


def _guess_plural(kind: str) -> str:
    """Kubernetes' UnsafeGuessKindToResource: lower-case and pluralise by spelling."""
    lower = kind.lower()
    if not lower:
        return lower
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return lower[:-1] + "ies"
    return lower + "s"
