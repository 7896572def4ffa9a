"""The resource store's contract: what reconcilers, informers and the API server call.

`ResourceStore` is the one seam between Ripple's control plane and wherever resources
live. `memory.MemoryResourceStore` is the fake for unit tests; `redis.RedisResourceStore`
is the real one behind `ripple up`. On the Kubernetes platform the API server plays this
role and no store object exists. Both implementations share `objects` for the rules of
what a write does to an object, so the fake cannot drift from the real store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    Protocol,
    TypedDict,
)

if TYPE_CHECKING:
    from ripple.api.registry import Kind

ChangeType = Literal["ADDED", "MODIFIED", "DELETED"]


class WatchEvent(TypedDict):
    """One change, Kubernetes' watch shape; `object` carries its new resourceVersion."""

    type: ChangeType
    object: dict[str, Any]


Resolver = Callable[[str, str], "Kind"]
"""(apiVersion, kind) -> Kind; raises `errors.NotFound` for a kind nobody serves."""


class ResourceStore(Protocol):
    """Kubernetes-like storage of resources: optimistic concurrency plus an ordered watch.

    Every write gets the next value of one global resourceVersion counter, so versions
    order all changes of all kinds and `watch(since=rv)` resumes exactly after `rv`.
    Objects returned are copies: callers may mutate them freely.
    """

    async def get(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        """The object, or `errors.NotFound`."""
        ...

    async def list(self, kind: Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of one kind in one namespace (None: all), sorted by namespace, name."""
        ...

    async def list_json(self, kind: Kind, namespace: str | None = None) -> Sequence[bytes]:
        """`list`, each object as its JSON text: what the API's list answer splices in
        without decoding and encoding every object again."""
        ...

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object: uid, creationTimestamp, generation 1, resourceVersion.

        `errors.Conflict` if it exists. A `status` in `obj` is kept, so fakes can be seeded.
        """
        ...

    async def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Replace everything but `status` and the system metadata.

        Generation goes up only when the spec (anything outside metadata and status)
        changed. A set and stale `metadata.resourceVersion` is `errors.Conflict`.
        """
        ...

    async def update_status(
        self, obj: dict[str, Any], *, current: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Replace only `status`, with the same resourceVersion precondition as `update`.

        `current` is the stored object as the caller last saw it (a controller's informer
        copy). A store may write against it without reading first, and reads when it turns
        out stale, so a wrong `current` costs a round trip, never a wrong write.
        """
        ...

    async def delete(
        self, kind: Kind, namespace: str | None, name: str, *, uid: str | None = None
    ) -> dict[str, Any]:
        """Remove the object; returns it with the resourceVersion of its deletion.

        With `uid`, only that object: a namesake created since is left alone and the call
        raises `errors.Conflict` (the garbage collector deletes children this way)."""
        ...

    def watch(
        self, kinds: Sequence[Kind] | None = None, *, since: str | None = None
    ) -> AsyncIterator[WatchEvent]:
        """Changes after resourceVersion `since`, or after the first iteration when None.

        A `since` older than the retained history raises `errors.Conflict` ("too old
        resource version"): list again and watch from the list's version.
        """
        ...

    async def current_version(self) -> str:
        """The resourceVersion of the latest change ("0" for an empty store)."""
        ...


def default_resolver(api_version: str, kind: str) -> Kind:
    """The registry's lookup, imported late so the store loads without the API package."""
    from ripple.api import registry

    return registry.lookup(api_version, kind)
