"""Tables over `ripple.cli.commands.apply`: loading manifests, and what an update sends."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ripple import errors
from ripple.cli.commands import apply

BROKER = "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: {name}\n"
TESTDATA = Path("/work/shared/testdata/knative-docs/valid")


def names(docs: list[apply.Document]) -> list[tuple[str, int, str]]:
    return [(Path(d.source).name, d.index, d.obj["metadata"]["name"]) for d in docs]


@pytest.mark.parametrize(
    "text, expected",
    [
        (BROKER.format(name="a"), ["a"]),
        (BROKER.format(name="a") + "---\n" + BROKER.format(name="b"), ["a", "b"]),
        ("---\n" + BROKER.format(name="a") + "---\n---\n", ["a"]),
        ("# only a comment\n", []),
        (
            (
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n"
                "  metadata: {name: s1}\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s2}\n"
            ),
            ["s1", "s2"],
        ),
    ],
)
def test_parse_documents(text: str, expected: list[str]) -> None:
    assert [d.obj["metadata"]["name"] for d in apply.parse_documents(text, "x.yaml")] == expected


@pytest.mark.parametrize(
    "text, source, says",
    [
        (
            "kind: Broker\nmetadata: {name: a}\n",
            "x.yaml",
            "x.yaml (document 1): apiVersion not set",
        ),
        (
            BROKER.format(name="a") + "---\napiVersion: v1\nkind: Secret\n",
            "x.yaml",
            "x.yaml (document 2): metadata.name not set",
        ),
        ("- a\n- b\n", "x.yaml", "x.yaml (document 1): not an object"),
        ("a: [\n", "x.yaml", "x.yaml: cannot parse: line 2, column 1"),
        ('{"apiVersion": "v1",}', "x.json", "x.json: cannot parse"),
        # The server's decoder: a key given twice is refused, naming the key and the line.
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  name: b\n",
            "x.yaml",
            'x.yaml: cannot parse: line 5: key "name" already set in map (first at line 4)',
        ),
        (
            BROKER.format(name="a") + "---\nkind: Secret\nkind: Broker\n",
            "x.yaml",
            'x.yaml (document 2): cannot parse: line 7: key "kind" already set in map',
        ),
        (
            '{"apiVersion": "v1",\n "kind": "Secret",\n "kind": "Broker"}',
            "x.json",
            'x.json: cannot parse: line 3: key "kind" already set in map (first at line 2)',
        ),
    ],
)
def test_parse_documents_rejects(text: str, source: str, says: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        apply.parse_documents(text, source)
    assert str(caught.value).startswith(says)


def test_values_are_json_shaped_as_the_server_reads_them() -> None:
    text = BROKER.format(name="a") + "  annotations:\n    since: 2024-01-01\n    n: 3\n"
    [doc] = apply.parse_documents(text, "x.yaml")
    # A date stays text (it crashed `ripple apply` as a datetime.date); 3 stays a number,
    # for admission to refuse naming the field.
    assert doc.obj["metadata"]["annotations"] == {"since": "2024-01-01", "n": 3}


def test_load_dir_in_sorted_order_and_only_manifests(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(BROKER.format(name="b1") + "---\n" + BROKER.format(name="b2"))
    (tmp_path / "a.yml").write_text(BROKER.format(name="a"))
    (tmp_path / "c.json").write_text(
        '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}}'
    )
    (tmp_path / "README.md").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.yaml").write_text(BROKER.format(name="d"))
    flat = apply.load_documents([str(tmp_path)], io.StringIO())
    assert names(flat) == [
        ("a.yml", 1, "a"),
        ("b.yaml", 1, "b1"),
        ("b.yaml", 2, "b2"),
        ("c.json", 1, "c"),
    ]
    deep = apply.load_documents([str(tmp_path)], io.StringIO(), recursive=True)
    assert names(deep)[-1] == ("d.yaml", 1, "d")


def test_load_stdin_and_files_in_flag_order(tmp_path: Path) -> None:
    (tmp_path / "z.yaml").write_text(BROKER.format(name="z"))
    stdin = io.StringIO(BROKER.format(name="from-stdin"))
    docs = apply.load_documents([str(tmp_path / "z.yaml"), "-"], stdin)
    assert [(d.source.rsplit("/", 1)[-1], d.obj["metadata"]["name"]) for d in docs] == [
        ("z.yaml", "z"),
        ("<stdin>", "from-stdin"),
    ]
    assert docs[1].label == "<stdin> (document 1, Broker/from-stdin)"


def test_load_missing_path() -> None:
    with pytest.raises(errors.Invalid, match='the path "/nope/x.yaml" does not exist'):
        apply.load_documents(["/nope/x.yaml"], io.StringIO())


# Doc defects kubectl also refuses: a channel catalogue (not an object), a mis-indented
# KafkaSource (no metadata.name), and a Revision snippet with an elided name.
DEFECTS = {
    "knative-docs__eventing_channels_channels.yaml",
    "knative-docs__eventing_sources_kafka-source_README__block06.yaml",
    "knative-docs__serving_revisions_revision-developer-config-options__block01.yaml",
}


@pytest.mark.skipif(not TESTDATA.is_dir(), reason="shared testdata not present")
def test_knative_doc_manifests_load_except_known_defects() -> None:
    loaded, refused = 0, set()
    for path in sorted(TESTDATA.rglob("*.yaml")):
        try:
            loaded += len(apply.load_documents([str(path)], io.StringIO()))
        except errors.Invalid as failure:
            assert str(failure).startswith(str(path))  # the message names the file
            refused.add(path.name)
    assert refused == DEFECTS
    assert loaded > 150
