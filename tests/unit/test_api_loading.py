"""YAML documents and admission (ripple.api.loading)."""

from __future__ import annotations

from typing import Any

import pytest

from ripple import errors
from ripple.api import loading

TRIGGER = """\
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: t
spec:
  broker: default
  subscriber:
    uri: http://sink.example.com
"""


@pytest.mark.parametrize(("text", "kinds"), [
    ("", []),
    ("---\n---\n", []),
    ("# only a comment\n", []),
    (TRIGGER, ["Trigger"]),
    (f"---\n{TRIGGER}---\n\n---\n{TRIGGER}", ["Trigger", "Trigger"]),
    ("{apiVersion: v1, kind: Secret}", ["Secret"]),
])
def test_load_documents(text: str, kinds: list[str]) -> None:
    assert [d["kind"] for d in loading.load_documents(text)] == kinds


@pytest.mark.parametrize(("text", "path", "fragment"), [
    ("- a\n- b\n", "documents[0]",
     "must be a mapping with apiVersion, kind and metadata, got a list"),
    (f"{TRIGGER}---\njust text\n", "documents[1]", "got the scalar 'just text'"),
    (f"---\n---\n{TRIGGER}---\n42\n", "documents[2]", "got the scalar 42"),
    ("a: [1\n", "documents[0]", "not valid YAML"),
    (f"{TRIGGER}---\na: b: c\n", "documents[1]", "not valid YAML"),
    ("kind: A\nkind: B\n", "documents[0]",
     'line 2: key "kind" already set in map (first at line 1)'),
    (f"{TRIGGER}---\nmetadata:\n  name: a\n  labels: {{}}\n  name: b\n", "documents[1]",
     'line 13: key "name" already set in map (first at line 11)'),  # lines of the file
    ("a: [1\n", "documents[0]", "line 2, column 1: "),  # libyaml: "did not find expected ',' or ']'"
    ("a: [1\n", "documents[0]", "expected ',' or ']'"),
    ("? [a, b]\n: 1\n", "documents[0]", "found a key that is not a string"),
    # What JSON cannot carry is refused with its line, not sent on to fail elsewhere.
    ("a: 1\nb: .nan\n", "documents[0]", "line 2, column 4: .nan is not a JSON number"),
    ("a: -.inf\n", "documents[0]", "-.inf is not a JSON number"),
    ("data: !!binary aGk=\n", "documents[0]", "line 1, column 7: !!binary has no JSON form"),
    ("s: !!set {x}\n", "documents[0]", "!!set has no JSON form"),
])
def test_load_documents_refuses(text: str, path: str, fragment: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        loading.load_documents(text)
    assert [e.path for e in caught.value.errors] == [path]
    assert fragment in caught.value.errors[0].message


@pytest.mark.parametrize(("text", "expected"), [
    ("when: 2024-01-01\n", {"when": "2024-01-01"}),
    ("when: 2024-01-01T00:00:00Z\n", {"when": "2024-01-01T00:00:00Z"}),
    ("1: one\ntrue: yes\n", {"1": "one", "true": True}),
    ("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",
     {"base": {"x": 1}, "derived": {"x": 1, "y": 2}}),
    # A merge's keys are overridden by the mapping's own, as YAML says: not duplicates.
    ("base: &b {x: 1}\nderived:\n  <<: *b\n  x: 2\n",
     {"base": {"x": 1}, "derived": {"x": 2}}),
    ("when: !!timestamp 2024-01-01\n", {"when": "2024-01-01"}),
    ("metadata:\n  annotations:\n    since: 2024-01-01\n",
     {"metadata": {"annotations": {"since": "2024-01-01"}}}),
])
def test_documents_are_json_shaped(text: str, expected: dict[str, Any]) -> None:
    assert loading.load_documents(text) == [expected]


def test_admit_returns_a_defaulted_copy() -> None:
    given = loading.load_documents(TRIGGER)[0]
    admitted = loading.admit(given)
    assert admitted["spec"]["filter"] == {} and "filter" not in given["spec"]
    assert admitted["metadata"]["namespace"] == "default"
    assert loading.admit(admitted) == admitted  # defaulting is idempotent


@pytest.mark.parametrize(("obj", "paths"), [
    ("text", [""]),
    ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"}}, ["kind"]),
    ({"kind": "Broker"}, ["apiVersion"]),
    ({"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger", "metadata": {"name": "T"},
      "spec": {"broker": "b", "subscriber": {}, "delivery": {"retry": -1}}},
     ["metadata.name", "spec.subscriber", "spec.delivery.retry"]),
])
def test_admit_refuses_with_every_path(obj: Any, paths: list[str]) -> None:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj)
    assert caught.value.status == 422
    assert [e.path for e in caught.value.errors] == paths


@pytest.mark.parametrize(("annotations", "message"), [
    ("replicas: 3", "metadata.annotations[replicas]: Invalid value: 3: must be a string"),
    ("enabled: true", "metadata.annotations[enabled]: Invalid value: true: must be a string"),
    ("nested: {a: b}", 'metadata.annotations[nested]: Invalid value: {"a": "b"}'),
])
def test_admit_refuses_annotations_that_are_not_strings(annotations: str, message: str) -> None:
    text = TRIGGER.replace("  name: t\n", f"  name: t\n  annotations:\n    {annotations}\n")
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(loading.load_documents(text)[0])
    assert str(caught.value).startswith(message)


def test_a_served_older_version_is_admitted_as_the_stored_one() -> None:
    source = {"apiVersion": "sources.knative.dev/v1beta1", "kind": "KafkaSource",
              "metadata": {"name": "k"},
              "spec": {"bootstrapServers": ["kafka:9092"], "topics": ["t"],
                       "sink": {"uri": "http://sink.example"}}}
    assert loading.admit(source)["apiVersion"] == "sources.knative.dev/v1"


def test_status_is_not_validated() -> None:
    obj = {**loading.load_documents(TRIGGER)[0], "status": {"conditions": "anything"}}
    assert loading.admit(obj)["status"] == {"conditions": "anything"}


def test_update_checks_identity_and_immutable_fields() -> None:
    old = loading.admit(loading.load_documents(TRIGGER)[0])
    new = {**old, "metadata": {**old["metadata"], "name": "u"},
           "spec": {**old["spec"], "broker": "x"}}
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(new, old)
    assert [e.path for e in caught.value.errors] == ["metadata.name", "spec.broker"]
