"""Object metadata rules and keys (ripple.api.meta), Kubernetes' own."""

from __future__ import annotations

from typing import Any

import pytest

from ripple.api import meta


def obj(**metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", **metadata}}


def paths(errs: list[Any]) -> list[str]:
    return [e.path for e in errs]


@pytest.mark.parametrize(("name", "rule", "ok"), [
    ("default", "subdomain", True),
    ("my.broker-1", "subdomain", True),
    ("a" * 253, "subdomain", True),
    ("a" * 254, "subdomain", False),
    ("My-Broker", "subdomain", False),
    ("-x", "subdomain", False),
    ("x-", "subdomain", False),
    ("x_y", "subdomain", False),
    ("<broker-name>", "subdomain", False),
    ("my.service", "label", False),
    ("a" * 63, "label", True),
    ("a" * 64, "label", False),
    ("123-abc", "label", True),
])
def test_name_rules(name: str, rule: meta.NameRule, ok: bool) -> None:
    errs = meta.validate(obj(name=name), name_rule=rule)
    assert (errs == []) is ok
    if not ok:
        assert paths(errs) == ["metadata.name"]
        assert f'invalid value "{name}"' in errs[0].message
        assert ("RFC 1123 label" if rule == "label" else "RFC 1123 subdomain") in errs[0].message


@pytest.mark.parametrize(("change", "path", "fragment"), [
    ({"metadata": None}, "metadata", "must be a mapping, got null"),
    ({"metadata": []}, "metadata", "must be a mapping, got a list"),
    ({"metadata": {}}, "metadata.name", "required field is missing"),
    ({"metadata": {"name": ""}}, "metadata.name", "required field is missing"),
    ({"metadata": {"name": 5}}, "metadata.name", "must be a string, got an integer"),
    ({"metadata": {"name": "x", "namespace": "My_NS"}}, "metadata.namespace", "RFC 1123 label"),
    ({"metadata": {"name": "x", "namespace": "a.b"}}, "metadata.namespace", "RFC 1123 label"),
    ({"metadata": {"name": "x", "nmae": "y"}}, "metadata.nmae", 'unknown field "nmae"'),
    ({"metadata": {"name": "x", "labels": []}}, "metadata.labels", "must be a mapping"),
    ({"metadata": {"name": "x", "labels": {"app": 1}}}, "metadata.labels[app]", "must be a string"),
    ({"metadata": {"name": "x", "labels": {"a b": "c"}}}, "metadata.labels[a b]",
     'invalid key "a b"'),
    ({"metadata": {"name": "x", "labels": {"app": "x y"}}}, "metadata.labels[app]",
     'invalid value "x y"'),
    ({"metadata": {"name": "x", "labels": {"Example.com/app": "a"}}},
     "metadata.labels[Example.com/app]", "qualified name"),
    ({"metadata": {"name": "x", "annotations": {"k": True}}}, "metadata.annotations[k]",
     "must be a string, got a boolean"),
    ({"metadata": {"name": "x", "annotations": {"/k": "v"}}}, "metadata.annotations[/k]",
     "qualified name"),
    ({"metadata": {"name": "x", "annotations": {"k": "v" * 300_000}}}, "metadata.annotations",
     "too long"),
    ({"spek": {}}, "spek", 'unknown field "spek"'),
    # Kubernetes' map[string]string: the message shows the value, as its "Invalid value".
    ({"metadata": {"name": "x", "annotations": {"replicas": 3}}},
     "metadata.annotations[replicas]",
     'Invalid value: 3: must be a string, got an integer (quote it: "3")'),
    ({"metadata": {"name": "x", "annotations": {"on": True}}}, "metadata.annotations[on]",
     'Invalid value: true: must be a string, got a boolean (quote it: "true")'),
    ({"metadata": {"name": "x", "annotations": {"n": {"a": "b"}}}}, "metadata.annotations[n]",
     'Invalid value: {"a": "b"}: must be a string, got a mapping'),
    ({"metadata": {"name": "x", "annotations": {"e": None}}}, "metadata.annotations[e]",
     "Invalid value: null: must be a string"),
    ({"metadata": {"name": "x", "labels": {"tier": 1.5}}}, "metadata.labels[tier]",
     'Invalid value: 1.5: must be a string, got a number (quote it: "1.5")'),
    ({"metadata": {"name": "x", "labels": {"list": ["a"]}}}, "metadata.labels[list]",
     'Invalid value: ["a"]: must be a string, got a list'),
])
def test_metadata_rules(change: dict[str, Any], path: str, fragment: str) -> None:
    errs = meta.validate({**obj(), **change})
    assert paths(errs) == [path]
    assert fragment in errs[0].message


@pytest.mark.parametrize("metadata", [
    {"name": "x", "namespace": "team-a"},
    {"name": "x", "labels": {"app.kubernetes.io/name": "x", "empty": ""}},
    {"name": "x", "annotations": {"Example.COM/Thing": "any text at all: 1, 2"}},
    {"name": "x", "uid": "u", "resourceVersion": "7", "generation": 2, "finalizers": []},
])
def test_metadata_accepted(metadata: dict[str, Any]) -> None:
    assert meta.validate(obj(**metadata)) == []


def test_cluster_scoped_kinds_have_no_namespace() -> None:
    errs = meta.validate(obj(namespace="default"), namespaced=False)
    assert paths(errs) == ["metadata.namespace"]


@pytest.mark.parametrize(("given", "namespaced", "expected"), [
    ({}, True, {"metadata": {"namespace": "default"}}),
    ({"metadata": None}, True, {"metadata": {"namespace": "default"}}),
    ({"metadata": {"namespace": ""}}, True, {"metadata": {"namespace": "default"}}),
    ({"metadata": {"namespace": "team"}}, True, {"metadata": {"namespace": "team"}}),
    ({}, False, {"metadata": {}}),
    ({"metadata": "junk"}, True, {"metadata": "junk"}),
])
def test_set_defaults(given: dict[str, Any], namespaced: bool, expected: dict[str, Any]) -> None:
    meta.set_defaults(given, namespaced=namespaced)
    assert given == expected


@pytest.mark.parametrize(("given", "namespaced", "expected"), [
    ({"metadata": {"name": "b", "namespace": "ns"}}, True, ("ns", "b")),
    ({"metadata": {"name": "b"}}, True, ("default", "b")),
    ({"metadata": {"name": "b", "namespace": "ns"}}, False, ("", "b")),
    ({}, True, ("default", "")),
])
def test_key(given: dict[str, Any], namespaced: bool, expected: tuple[str, str]) -> None:
    assert meta.key(given, namespaced=namespaced) == expected


@pytest.mark.parametrize(("old", "new", "path"), [
    ({"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}, "metadata.name"),
    ({"metadata": {"name": "a", "namespace": "x"}}, {"metadata": {"name": "a", "namespace": "y"}},
     "metadata.namespace"),
    ({"kind": "Broker", "metadata": {}}, {"kind": "Trigger", "metadata": {}}, "kind"),
])
def test_validate_update_keeps_identity(
    old: dict[str, Any], new: dict[str, Any], path: str
) -> None:
    assert paths(meta.validate_update(old, new)) == [path]
