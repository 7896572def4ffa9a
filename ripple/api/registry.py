"""The kind table: every resource kind Ripple serves, and how to find one.

Kind modules (`ripple/api/eventing/broker.py`, `core/secret.py`, and later channels, flows,
sources and serving) each call `register` once at import; importing `ripple.api` imports
them all. Everyone else looks kinds up here: `loading.admit` and the store by
(apiVersion, kind), the API server by (group, version, plural), the CLI by a name a user
typed (`trigger`, `triggers`, `Trigger`, `brokers.eventing.knative.dev`).

The module-level functions work on one default `Registry`; tests build their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ripple import errors
from ripple.errors import FieldError


def _no_defaults(obj: dict[str, Any]) -> None:
    return None


def _no_errors(obj: dict[str, Any]) -> list[FieldError]:
    return []


def _no_update_errors(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    return []


@dataclass(frozen=True)
class Kind:
    """One served kind: its names, scope, and its defaulting and validation functions."""

    group: str  # "" for the core group
    version: str
    kind: str  # "Broker"
    plural: str  # "brokers"
    singular: str  # "broker"
    short_names: tuple[str, ...] = ()
    namespaced: bool = True
    addressable: bool = False  # reports status.address.url
    # Knative's *_defaults.go: mutates the object in place.
    set_defaults: Callable[[dict[str, Any]], None] = _no_defaults
    # Knative's *_validation.go: the whole object, paths like "spec.subscriber.ref.kind".
    validate: Callable[[dict[str, Any]], list[FieldError]] = _no_errors
    # (old, new): the immutable fields.
    validate_update: Callable[[dict[str, Any], dict[str, Any]], list[FieldError]] = (
        _no_update_errors
    )
    # Other versions served with the same schema (KafkaSource's v1beta1 beside v1), as a
    # CRD serves several versions: admission converts them to `version`, which is stored.
    also_served: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """`eventing.knative.dev/v1`, or `v1` for the core group."""
        return self._api_version(self.version)

    @property
    def api_versions(self) -> tuple[str, ...]:
        """The stored apiVersion first, then every other one served."""
        return tuple(self._api_version(v) for v in (self.version, *self.also_served))

    def _api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    def names(self) -> tuple[str, ...]:
        """Every lower-case name a user may type for this kind."""
        return (self.kind.lower(), self.singular, self.plural, *self.short_names)

    def __str__(self) -> str:
        return f"{self.api_version} {self.kind}"


class Registry:
    """Kinds by (apiVersion, kind). A kind's name is unique across groups: the informers,
    the work queues' `ObjectRef` and `by_name` key objects by kind name, so a second group's
    kind of the same name (a core `v1 Service` beside Knative's) is refused here until
    they key by group too."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, str], Kind] = {}

    def register(self, kind: Kind) -> Kind:
        for api_version in kind.api_versions:
            existing = self._kinds.get((api_version, kind.kind))
            if existing is not None and existing != kind:
                raise ValueError(f"{api_version} {kind.kind} is registered already")
        namesake = next((k for k in self.kinds() if k.kind == kind.kind and k != kind), None)
        if namesake is not None:
            raise ValueError(f"{kind}: the kind name {kind.kind} is taken by {namesake}; "
                             "objects are keyed by kind name")
        for api_version in kind.api_versions:
            self._kinds[(api_version, kind.kind)] = kind
        return kind

    def kinds(self) -> list[Kind]:
        return list(dict.fromkeys(self._kinds.values()))

    def served(self) -> str:
        return ", ".join(str(k) for k in self.kinds()) or "nothing"

    def lookup(self, api_version: str, kind: str) -> Kind:
        """The kind a manifest's apiVersion and kind name; errors.Invalid if Ripple has none."""
        for path, value in (("apiVersion", api_version), ("kind", kind)):
            if not value or not isinstance(value, str):
                raise errors.Invalid(FieldError(
                    path, f"required field is missing; Ripple serves: {self.served()}"
                ), status=422)
        found = self._kinds.get((api_version, kind))
        if found is not None:
            return found
        known_version = any(api_version in k.api_versions for k in self.kinds())
        path = "kind" if known_version else "apiVersion"
        hint = ""
        elsewhere = [str(k) for k in self.kinds() if k.kind == kind]
        if elsewhere:
            hint = f" (Ripple serves {kind} as {', '.join(elsewhere)})"
        raise errors.Invalid(FieldError(
            path,
            f"{api_version} {kind} is not a kind Ripple serves{hint}; it serves: {self.served()}",
        ), status=422)

    def by_resource(self, group: str, version: str, plural: str) -> Kind:
        """The kind behind an API path `/apis/{group}/{version}/.../{plural}`."""
        for kind in self.kinds():
            if (kind.group, kind.plural) == (group, plural) and version in (kind.version, *kind.also_served):
                return kind
        api_version = f"{group}/{version}" if group else version
        raise errors.NotFound(
            f'the server could not find the requested resource "{plural}" in {api_version}; '
            f"it serves: {', '.join(self._resource_names())}"
        )

    def by_name(self, name: str) -> Kind:
        """The kind a user typed: kind, singular, plural or short name, any case.

        `plural.group` and `kind.group` (`brokers.eventing.knative.dev`) pick one group,
        as kubectl accepts, for when two groups share a name.
        """
        wanted = name.strip().lower()
        for kind in self.kinds():
            if wanted in kind.names():
                return kind
        for kind in self.kinds():
            if kind.group and wanted in {f"{n}.{kind.group}" for n in kind.names()}:
                return kind
        raise errors.NotFound(
            f'"{name}" is not a kind Ripple serves; the names it knows: '
            f"{', '.join(self._all_names())}"
        )

    def _resource_names(self) -> list[str]:
        return [f"{k.plural}.{k.group}" if k.group else k.plural for k in self.kinds()]

    def _all_names(self) -> list[str]:
        seen: list[str] = []
        for kind in self.kinds():
            for each in (kind.singular, kind.plural, *kind.short_names):
                if each not in seen:
                    seen.append(each)
        return seen


REGISTRY = Registry()


def register(kind: Kind) -> Kind:
    """Add a kind to the default registry; kind modules call this once at import."""
    return REGISTRY.register(kind)


def lookup(api_version: str, kind: str) -> Kind:
    return REGISTRY.lookup(api_version, kind)


def by_resource(group: str, version: str, plural: str) -> Kind:
    return REGISTRY.by_resource(group, version, plural)


def by_name(name: str) -> Kind:
    return REGISTRY.by_name(name)


def kinds() -> list[Kind]:
    return REGISTRY.kinds()
