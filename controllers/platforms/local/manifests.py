"""`ripple up -f`: apply manifests straight to the store at start, as `ripple apply` would.

Called by `platform.run_worker` (worker 0, before it serves). Documents are read by the
shared loader (`ripple.api.loading`, the server's decoder and admission), the object to
write is decided by `ripple.merging` (the CLI's rule), and each object prints kubectl's
line: `broker.eventing.knative.dev/default created|configured|unchanged`.

With `keep_existing` (`ripple up -f DIR --keep-existing`, what `make quickstart` uses), an
object that exists is never written: it prints `unchanged` when it matches the manifest,
and `kept (differs from the manifest: spec.subscriber)` when the user changed it since.

Only NotFound leads to a create. Any other failure, a store outage above all, stops the
start with one line naming the file and the document, instead of being taken for
"absent" and turned into a second failure (or a silent overwrite).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from ripple import errors, merging
from ripple.api import loading, meta, registry

EXTENSIONS = (".yaml", ".yml", ".json")


class Store(Protocol):
    """The part of `ripple.store.ResourceStore` that applying needs."""

    async def get(self, kind: registry.Kind, namespace: str | None, name: str) -> dict[str, Any]: ...

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def update(self, obj: dict[str, Any]) -> dict[str, Any]: ...


def manifest_files(paths: Iterable[Path]) -> list[Path]:
    """Each file, and every manifest under each directory (recursively, sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in EXTENSIONS and p.is_file())
        else:
            found.append(path)
    return found


def differences(current: Any, wanted: Any, path: str = "") -> list[str]:
    """The dotted paths where `wanted` declares something `current` does not hold, down to
    the first level that differs (a list differs as a whole)."""
    if isinstance(current, dict) and isinstance(wanted, dict):
        found: list[str] = []
        for key in sorted(set(current) | set(wanted), key=str):
            if current.get(key) != wanted.get(key):
                found += differences(current.get(key), wanted.get(key), f"{path}.{key}" if path else str(key))
        return found
    return [] if current == wanted else [path]


async def apply_object(store: Store, doc: dict[str, Any], *, keep_existing: bool = False) -> str:
    """Create or update one document (with `keep_existing`, only create); kubectl's line."""
    obj = loading.admit(doc)
    kind = registry.lookup(obj["apiVersion"], obj["kind"])
    namespace, name = meta.key(obj, namespaced=kind.namespaced)
    title = f"{kind.singular}.{kind.group}/{name}" if kind.group else f"{kind.singular}/{name}"
    try:
        current = await store.get(kind, namespace or None, name)
    except errors.NotFound:
        await store.create(obj)
        return f"{title} created"
    merged = loading.admit(merging.merge_for_update(current, obj), current)
    if merging.unchanged(current, merged):
        return f"{title} unchanged"
    if keep_existing:
        changed = differences(merging.comparable(current), merging.comparable(merged))
        return f"{title} kept (differs from the manifest: {', '.join(changed)}; left as you changed it)"
    stored = await store.update(merged)
    return f"{title} {merging.outcome(current, stored)}"


def _print(line: str) -> None:
    print(line, flush=True)


def _named(failure: errors.RippleError, where: str) -> errors.RippleError:
    """The same error (same class, so the same status and retry delay), naming the place."""
    named = copy.copy(failure)
    named.args = (f"{where}: {failure}",)
    return named


async def apply_manifests(
    store: Store, paths: Sequence[Path], *, out: Callable[[str], None] | None = None,
    keep_existing: bool = False,
) -> None:
    """Every document of every file, in order; stops at the first failure, naming it.
    Each line goes to `out`, by default stdout at once (a pipe, as in `make`, included)."""
    out = out or _print
    for file in manifest_files(paths):
        try:  # the reading first: an unreadable file names itself, not a document
            text = file.read_text(encoding="utf-8")
            docs = loading.load_documents(text, as_json=file.suffix == ".json")
        except errors.RippleError as failure:
            raise _named(failure, str(file)) from failure
        except (OSError, UnicodeDecodeError) as failure:
            raise errors.Invalid(f"{file}: cannot read: {failure}") from failure
        for index, doc in enumerate(docs, start=1):
            try:
                out(await apply_object(store, doc, keep_existing=keep_existing))
            except errors.RippleError as failure:
                name = meta.metadata(doc).get("name")
                where = f"{file} (document {index}, {doc.get('kind')}/{name})"
                raise _named(failure, where) from failure
