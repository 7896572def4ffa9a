"""`ripple apply -f` against the real API server, in process: the CLI's client, the local
platform's API app over a memory store, the real registry and admission.

Where test_cli_http checks the wire against a fake, these check that the two sides agree:
every served version is found, and what admission refuses reaches the user as one line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from test_apiserver import drive

from controllers.platforms.local import apiserver
from ripple.cli import client, main
from ripple.store import MemoryResourceStore

DOCS = Path("/work/shared/testdata/knative-docs/valid")
KAFKA_DOC = DOCS / "knative-docs__eventing_sources_kafka-source_README__block03.yaml"


class InProcess(client.Client):
    """The CLI's Client with its one transport method served by an ASGI app."""

    app: ClassVar[Any] = None
    loop: ClassVar[asyncio.AbstractEventLoop | None] = None
    seen: ClassVar[list[tuple[str, str]]] = []

    def send(self, method: str, path_or_url: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> client.Response:
        assert self.loop is not None
        self.seen.append((method, path_or_url))
        answer = self.loop.run_until_complete(
            drive(self.app, method, path_or_url, body, lambda _: False)
        )
        return client.Response(answer.status, answer.headers, answer.body)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[InProcess]]:
    loop = asyncio.new_event_loop()
    served = type("Served", (InProcess,), {
        "app": apiserver.make_api(MemoryResourceStore()), "loop": loop, "seen": [],
    })
    monkeypatch.setattr(main, "Client", served)
    yield served
    loop.close()


def ripple(*argv: str) -> int:
    return main.main(["--server", "http://in-process", *argv])


@pytest.mark.skipif(not KAFKA_DOC.is_file(), reason="shared testdata not present")
def test_a_v1beta1_kafka_source_applies_at_its_own_version(
    server: type[InProcess], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Knative's KafkaSource docs long used v1beta1; the server serves it beside v1.
    text = KAFKA_DOC.read_text().replace("sources.knative.dev/v1\n", "sources.knative.dev/v1beta1\n")
    assert "sources.knative.dev/v1beta1" in text
    manifest = tmp_path / "kafka.yaml"
    manifest.write_text(text)
    assert ripple("apply", "-f", str(manifest)) == 0, capsys.readouterr().err
    assert ripple("apply", "-f", str(manifest)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "kafkasource.sources.knative.dev/kafka-source created",
        "kafkasource.sources.knative.dev/kafka-source unchanged",
    ]
    posted = [path for method, path in server.seen if method == "POST"]
    assert posted == ["/apis/sources.knative.dev/v1beta1/namespaces/default/kafkasources"] * 2


BROKER = """\
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: b
  annotations:
    {annotation}
"""


@pytest.mark.parametrize("annotation, code, says", [
    # A date was a datetime.date, and `ripple apply` crashed in json.dumps.
    ("since: 2024-01-01", 0, ""),
    ("replicas: 3",
     1, "metadata.annotations[replicas]: Invalid value: 3: must be a string"),
    ("enabled: true",
     1, "metadata.annotations[enabled]: Invalid value: true: must be a string"),
    ("nested: {a: b}",
     1, 'metadata.annotations[nested]: Invalid value: {"a": "b"}: must be a string'),
])
def test_annotations_are_strings_and_a_refusal_is_one_line(
    server: type[InProcess], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    annotation: str, code: int, says: str,
) -> None:
    manifest = tmp_path / "b.yaml"
    manifest.write_text(BROKER.format(annotation=annotation))
    assert ripple("apply", "-f", str(manifest)) == code
    err = capsys.readouterr().err
    if code == 0:
        assert err == ""
        return
    [line] = err.splitlines()
    assert line.startswith(f"Error: {manifest} (document 1, Broker/b): ")
    assert says in line


def test_a_sink_to_a_kind_the_server_does_not_serve_is_refused_at_the_command(
    server: type[InProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    # issue #16: `ripple trigger create --sink ksvc:x` succeeded, and the Trigger then
    # failed with KindNotServed. The CLI asks the controller's resolver first.
    # Since issue #10 a Knative Service is served: `ksvc:x` is a sink; a kind the server
    # does not serve is still refused before anything is created.
    assert ripple("trigger", "create", "t", "--sink", "sources.knative.dev/v1/apiserversources:x") == 1
    assert capsys.readouterr().err == (
        "Error: sink 'sources.knative.dev/v1/apiserversources:x': the API serves no resource "
        "'apiserversources' in sources.knative.dev/v1\n"
    )
    assert [m for m, _ in server.seen] == ["GET"]  # discovery only: nothing was created
    assert ripple("trigger", "create", "t", "--sink", "broker:default") == 0
