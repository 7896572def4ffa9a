"""`ripple up -f` (controllers.platforms.local.manifests) over the memory store, and over a
store that fails: only NotFound leads to a create, anything else stops naming the file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from controllers.platforms.local import manifests
from ripple import errors
from ripple.api import registry
from ripple.store import MemoryResourceStore

BROKER = """\
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: b
  labels: {{team: a}}
spec:
  delivery: {{retry: {retry}}}
"""
BROKER_KIND = registry.lookup("eventing.knative.dev/v1", "Broker")


def apply(store: Any, *paths: Path) -> list[str]:
    lines: list[str] = []
    asyncio.run(manifests.apply_manifests(store, list(paths), out=lines.append))
    return lines


def test_created_then_unchanged_then_configured_keeping_status_and_labels(tmp_path: Path) -> None:
    store = MemoryResourceStore()
    file = tmp_path / "b.yaml"
    file.write_text(BROKER.format(retry=3))
    assert apply(store, file) == ["broker.eventing.knative.dev/b created"]
    assert apply(store, file) == ["broker.eventing.knative.dev/b unchanged"]

    current = asyncio.run(store.get(BROKER_KIND, "default", "b"))
    asyncio.run(store.update_status({**current, "status": {"observedGeneration": 1}}))
    file.write_text(BROKER.format(retry=5).replace("  labels: {team: a}\n", ""))
    assert apply(store, file) == ["broker.eventing.knative.dev/b configured"]
    stored = asyncio.run(store.get(BROKER_KIND, "default", "b"))
    assert stored["spec"]["delivery"]["retry"] == 5
    assert stored["status"] == {"observedGeneration": 1}
    assert stored["metadata"]["labels"] == {"team": "a"}  # merged, as `ripple apply` does
    assert stored["metadata"]["generation"] == 2


def test_a_directory_in_order_with_json_and_lists(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BROKER.format(retry=1))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.json").write_text(
        '{"apiVersion": "v1", "kind": "List", "items": [\n'
        '\t{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}]}'
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert apply(MemoryResourceStore(), tmp_path) == [
        "broker.eventing.knative.dev/b created",
        "secret/s created",
    ]


class Down(MemoryResourceStore):
    """The store is gone: every read fails as the Redis store translates an outage."""

    async def get(self, kind: Any, namespace: str | None, name: str) -> dict[str, Any]:
        raise errors.StoreUnavailable("resource store unavailable: Connection refused", delay=2)

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("an outage must never be taken for 'absent' and lead to a create")


def test_a_store_outage_stops_naming_the_file_and_document(tmp_path: Path) -> None:
    file = tmp_path / "b.yaml"
    file.write_text(BROKER.format(retry=1))
    with pytest.raises(errors.StoreUnavailable) as caught:
        apply(Down(), file)
    assert str(caught.value) == (
        f"{file} (document 1, Broker/b): resource store unavailable: Connection refused"
    )
    assert caught.value.delay == 2  # the same error, so callers still know to retry


@pytest.mark.parametrize("text, error, says", [
    ("kind: Broker\nkind: Trigger\n", errors.Invalid,
     'documents[0]: not valid YAML: line 2: key "kind" already set in map'),
    (("apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: b\n"
     "  annotations: {replicas: 3}\n"), errors.Invalid,
     "(document 1, Broker/b): metadata.annotations[replicas]: Invalid value: 3"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: c}\n", errors.Invalid,
     "(document 1, Pod/c): kind: v1 Pod is not a kind Ripple serves"),
])
def test_a_refused_document_names_the_file(
    tmp_path: Path, text: str, error: type[Exception], says: str
) -> None:
    file = tmp_path / "m.yaml"
    file.write_text(text)
    with pytest.raises(error) as caught:
        apply(MemoryResourceStore(), file)
    assert str(caught.value).startswith(str(file))
    assert says in str(caught.value)


def test_keep_existing_creates_what_is_missing_and_leaves_changed_objects_alone(tmp_path: Path) -> None:
    """`ripple up -f DIR --keep-existing` (what `make quickstart` runs): a second run keeps
    the user's change and says where it differs from the manifest."""
    store = MemoryResourceStore()
    file = tmp_path / "b.yaml"
    file.write_text(BROKER.format(retry=3))
    keep: list[str] = []
    asyncio.run(manifests.apply_manifests(store, [file], out=keep.append, keep_existing=True))
    assert keep == ["broker.eventing.knative.dev/b created"]

    current = asyncio.run(store.get(BROKER_KIND, "default", "b"))
    current["spec"]["delivery"]["retry"] = 9  # the user's own change, e.g. by `ripple apply`
    asyncio.run(store.update(current))
    keep.clear()
    asyncio.run(manifests.apply_manifests(store, [file], out=keep.append, keep_existing=True))
    assert keep == ["broker.eventing.knative.dev/b kept (differs from the manifest: "
                    "spec.delivery.retry; left as you changed it)"]
    assert asyncio.run(store.get(BROKER_KIND, "default", "b"))["spec"]["delivery"]["retry"] == 9

    file.write_text(BROKER.format(retry=9))  # the manifest now says what the store holds
    keep.clear()
    asyncio.run(manifests.apply_manifests(store, [file], out=keep.append, keep_existing=True))
    assert keep == ["broker.eventing.knative.dev/b unchanged"]


@pytest.mark.parametrize("current, wanted, paths", [
    ({"a": 1}, {"a": 1}, []),
    ({"a": 1}, {"a": 2}, ["a"]),
    ({"spec": {"x": 1, "y": 2}}, {"spec": {"x": 1, "y": 3}}, ["spec.y"]),
    ({"spec": {"x": 1}}, {"spec": {"x": 1, "z": {"q": 1}}}, ["spec.z"]),
    ({"spec": {"l": [1, 2]}}, {"spec": {"l": [1]}}, ["spec.l"]),
    ({"m": {"a": 1}, "n": 1}, {"m": {"a": 2}, "n": 2}, ["m.a", "n"]),
])
def test_differences(current: dict[str, Any], wanted: dict[str, Any], paths: list[str]) -> None:
    assert manifests.differences(current, wanted) == paths
