"""Tables over `ripple.cli.output`: ages, condition summaries, kn's list columns, rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ripple.cli import output

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (-5, "<invalid>"),
        (-0.5, "0s"),
        (0, "0s"),
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (200, "3m20s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 25 * 60, "3h25m"),
        (8 * 3600 + 59, "8h"),
        (47 * 3600, "47h"),
        (4 * 86400, "4d"),
        (4 * 86400 + 5 * 3600, "4d5h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400 + 2 * 86400, "3y2d"),
        (10 * 365 * 86400, "10y"),
    ],
)
def test_human_duration(seconds: float, expected: str) -> None:
    assert output.human_duration(seconds) == expected


@pytest.mark.parametrize(
    "stamp, expected",
    [
        (None, ""),
        ("", ""),
        ("not a time", ""),
        (ago(5), "5s"),
        ("2024-05-01T11:57:00Z", "3m"),
        ("2024-05-01T10:00:00+00:00", "120m"),  # kn (HumanDuration) keeps minutes to 3h
        ("2024-05-01T11:00:00+02:00", "3h"),
        ("2024-04-27T11:59:59.5Z", "4d"),
        ("2024-05-01T11:59:50", "10s"),  # no offset: taken as UTC
    ],
)
def test_age(stamp: str | None, expected: str) -> None:
    assert output.age(stamp, NOW) == expected


def cond(kind: str, status: str, reason: str = "") -> dict:
    return {"type": kind, "status": status, "reason": reason}


def obj(conditions: list[dict] | None = None, **status: object) -> dict:
    return {"metadata": {"name": "x"}, "status": {**status, "conditions": conditions or []}}


@pytest.mark.parametrize(
    "conditions, summary, ready, reason",
    [
        ([], "", "Unknown", ""),
        ([cond("Ready", "True")], "1 OK / 1", "True", ""),
        (
            [cond("Ready", "False", "NoIngress"), cond("Addressable", "True")],
            "1 OK / 2",
            "False",
            "NoIngress",
        ),
        (
            [cond("Ready", "Unknown", "Pending"), cond("A", "Unknown")],
            "0 OK / 2",
            "Unknown",
            "Pending",
        ),
        ([cond("Addressable", "True")], "1 OK / 1", "Unknown", ""),
        ([cond("Ready", "True", "Ignored")], "1 OK / 1", "True", ""),
    ],
)
def test_condition_columns(conditions: list, summary: str, ready: str, reason: str) -> None:
    o = obj(conditions)
    assert (output.conditions_summary(o), output.ready(o), output.reason(o)) == (
        summary,
        ready,
        reason,
    )


def test_no_status_at_all() -> None:
    o = {"metadata": {"name": "x"}}
    assert (output.conditions_summary(o), output.ready(o), output.url_of(o)) == ("", "Unknown", "")


BROKER = {
    "kind": "Broker",
    "metadata": {"name": "default", "namespace": "default", "creationTimestamp": ago(300)},
    "status": {
        "address": {"url": "http://127.0.0.1:8080/default/default"},
        "conditions": [cond("Ready", "True"), cond("Addressable", "True")],
    },
}
TRIGGER = {
    "kind": "Trigger",
    "metadata": {"name": "t1", "namespace": "default", "creationTimestamp": ago(4 * 3600)},
    "spec": {
        "broker": "default",
        "subscriber": {
            "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "hello"}
        },
    },
    "status": {"conditions": [cond("Ready", "False", "SubscriberNotFound"), cond("B", "True")]},
}
SECRET = {
    "kind": "Secret",
    "metadata": {"name": "s", "namespace": "ns2", "creationTimestamp": ago(10)},
}


@pytest.mark.parametrize(
    "items, kind, all_ns, headers, rows",
    [
        (
            [BROKER],
            "Broker",
            False,
            ["NAME", "URL", "AGE", "CONDITIONS", "READY", "REASON"],
            [["default", "http://127.0.0.1:8080/default/default", "5m", "2 OK / 2", "True", ""]],
        ),
        (
            [TRIGGER],
            "Trigger",
            False,
            ["NAME", "BROKER", "SINK", "AGE", "CONDITIONS", "READY", "REASON"],
            [["t1", "default", "ksvc:hello", "4h", "1 OK / 2", "False", "SubscriberNotFound"]],
        ),
        (
            [SECRET],
            "Secret",
            True,
            ["NAMESPACE", "NAME", "AGE", "CONDITIONS", "READY", "REASON"],
            [["ns2", "s", "10s", "", "Unknown", ""]],
        ),
        (
            [{**SECRET, "status": {"address": {"url": "http://a"}}}],
            "Thing",
            False,
            ["NAME", "URL", "AGE", "CONDITIONS", "READY", "REASON"],
            [["s", "http://a", "10s", "", "Unknown", ""]],
        ),
        (
            [{**SECRET, "spec": {"schedule": "* * * * *", "sink": {"uri": "http://x"}}}],
            "PingSource",
            False,
            ["NAME", "SCHEDULE", "SINK", "AGE", "CONDITIONS", "READY", "REASON"],
            [["s", "* * * * *", "http://x", "10s", "", "Unknown", ""]],
        ),
        (
            [{**SECRET, "spec": {"sink": {"uri": "http://x"}}}],
            "KafkaSource",
            False,
            ["NAME", "SINK", "AGE", "CONDITIONS", "READY", "REASON"],
            [["s", "http://x", "10s", "", "Unknown", ""]],
        ),
        (
            [{**SECRET, "spec": {"sink": {"uri": "http://x"}},
              "status": {"webhookUrl": "http://r/webhooks/github/ns/s"}}],
            "GitHubSource",
            False,
            ["NAME", "SINK", "WEBHOOK", "AGE", "CONDITIONS", "READY", "REASON"],
            [["s", "http://x", "http://r/webhooks/github/ns/s", "10s", "", "Unknown", ""]],
        ),
    ],
)
def test_table_rows(items: list, kind: str, all_ns: bool, headers: list, rows: list) -> None:
    assert output.table_rows(items, kind, NOW, all_namespaces=all_ns) == (headers, rows)


@pytest.mark.parametrize(
    "headers, rows, expected",
    [
        (["NAME", "AGE"], [], "NAME   AGE"),
        (
            ["NAME", "AGE"],
            [["a", "5s"], ["longer-name", ""]],
            "NAME          AGE\na             5s\nlonger-name",
        ),
        (["A", "B", "C"], [["x", "", "z"]], "A   B   C\nx       z"),
    ],
)
def test_render_table(headers: list, rows: list, expected: str) -> None:
    assert output.render_table(headers, rows) == expected


@pytest.mark.parametrize(
    "fmt, expected",
    [
        ("json", '{\n  "a": 1,\n  "b": [\n    "x"\n  ]\n}'),
        ("yaml", "a: 1\nb:\n- x"),
    ],
)
def test_dump(fmt: str, expected: str) -> None:
    assert output.dump({"a": 1, "b": ["x"]}, fmt) == expected


def test_as_list() -> None:
    assert output.as_list([{"a": 1}]) == {
        "apiVersion": "v1",
        "kind": "List",
        "items": [{"a": 1}],
        "metadata": {"resourceVersion": ""},
    }


# --- issue #16: -o wide and -o jsonpath ---------------------------------------------------

from ripple.cli import jsonpath  # noqa: E402

LISTED = {
    "kind": "List",
    "items": [
        {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}},
         "spec": {"n": 1, "on": True, "tags": ["p", "q"]}},
        {"metadata": {"name": "b"}, "spec": {"n": 2.5}},
    ],
}


@pytest.mark.parametrize("template, expected", [
    ("{.kind}", "List"),
    ("{.items[*].metadata.name}", "a b"),
    ("{.items[0].spec.n}", "1"),
    ("{.items[-1].spec.n}", "2.5"),
    ("{.items[0].spec.on}", "true"),
    ("{.items[0].spec.tags}", '["p","q"]'),
    ("{.items[0].spec.tags[*]}", "p q"),
    ("{.items[0].metadata.labels['app.kubernetes.io/name']}", "x"),
    ("{.items[0].metadata.labels.*}", "x"),
    ("{.items[1].metadata}", '{"name":"b"}'),
    ("{.items[5].metadata.name}", ""),  # missing prints nothing, as kubectl get
    ("{.nope.deeper}", ""),
    ('{range .items[*]}{.metadata.name}{"\\t"}{.spec.n}{"\\n"}{end}', "a\t1\nb\t2.5\n"),
    ("{range .items[*]}[{range .spec.tags[*]}{@}{end}]{end}", "[pq][]"),
    ("names: {.items[*].metadata.name}!", "names: a b!"),
    ("{$.kind} {@.kind} {.}", 'List List ' + __import__("json").dumps(
        LISTED, separators=(",", ":"))),
])
def test_jsonpath_subset(template: str, expected: str) -> None:
    assert jsonpath.render(template, LISTED) == expected


@pytest.mark.parametrize("template, says", [
    ("{.items[?(@.x==1)]}", "unsupported syntax '[?(@.x==1)]'"),
    ("{..name}", "unsupported syntax '..name'"),
    ("{.items[0:2]}", "unsupported syntax '[0:2]'"),
    ("{.items[0,1]}", "unsupported syntax '[0,1]'"),
    ("{metadata.name}", "unsupported syntax 'metadata.name'"),
    ("{range .items[*]}{.a}", "a {range} has no {end}"),
    ("{end}", "{end} without {range}"),
    ("{.a", "is never closed"),
    ("a}", "closes nothing"),
])
def test_jsonpath_outside_the_subset_is_an_error_naming_the_subset(template: str, says: str) -> None:
    with pytest.raises(jsonpath.JsonPathError) as caught:
        jsonpath.render(template, LISTED)
    assert says in str(caught.value)


@pytest.mark.parametrize("text, result", [
    ("json", "json"), ("wide", "wide"), ("name", "name"),
    ("jsonpath={.items[*].metadata.name}", "jsonpath={.items[*].metadata.name}"),
])
def test_parse_format_accepts(text: str, result: str) -> None:
    assert output.parse_format(text) == result


@pytest.mark.parametrize("text, says", [
    ("go-template={{.metadata.name}}",
     "go-template is not supported; Ripple prints json, yaml, name, wide, jsonpath=TEMPLATE"),
    ("custom-columns=NAME:.metadata.name", "custom-columns is not supported"),
    ("table", "unknown output format 'table'"),
    ("jsonpath=", "jsonpath= needs a template"),
    ("jsonpath={.a[?(@.b)]}", "unsupported syntax"),
])
def test_parse_format_refuses_with_what_is_supported(text: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        output.parse_format(text)
    assert says in str(caught.value)


TRIGGER = {
    "kind": "Trigger",
    "metadata": {"name": "t", "generation": 3, "creationTimestamp": "2024-05-01T00:00:00Z"},
    "spec": {"broker": "default", "filter": {"attributes": {"type": "x", "source": "s"}},
             "subscriber": {"uri": "http://s/"}},
    "status": {"observedGeneration": 3, "subscriberUri": "http://s/",
               "conditions": [{"type": "Ready", "status": "True"}]},
}


def test_wide_adds_the_kinds_columns_before_the_status_ones() -> None:
    now = datetime(2024, 5, 1, 0, 1, tzinfo=UTC)
    headers, rows = output.table_rows([TRIGGER], "Trigger", now)
    assert headers == ["NAME", "BROKER", "SINK", "AGE", "CONDITIONS", "READY", "REASON"]
    headers, rows = output.table_rows([TRIGGER], "Trigger", now, wide=True)
    assert headers == ["NAME", "BROKER", "SINK", "AGE", "FILTER", "SUBSCRIBER-URI", "BACKLOG",
                       "GENERATION", "OBSERVED", "CONDITIONS", "READY", "REASON"]
    assert rows == [["t", "default", "http://s/", "60s", "source=s,type=x", "http://s/", "",
                     "3", "3", "1 OK / 1", "True", ""]]


def test_a_wide_column_is_one_line() -> None:
    # The store's backlog: one entry in WIDE_COLUMNS, reading what the command's hook put on
    # the object (`resources.add_delivery_stats`).
    trigger = {**TRIGGER, output.DELIVERY_STATS: {"backlog": 7}}
    headers, rows = output.table_rows([trigger], "Trigger", datetime.now(UTC), wide=True)
    assert headers[headers.index("BACKLOG") + 1] == "GENERATION"
    assert rows[0][headers.index("BACKLOG")] == "7"
