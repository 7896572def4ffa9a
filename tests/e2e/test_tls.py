"""Issue #15, TLS through `ripple up --tls-cert --tls-key`, with a throwaway CA made here.

Both listeners (the data plane's and the API's own, `--api-port`) serve HTTPS; the CLI
reaches the API over it, trusting the CA through `SSL_CERT_FILE` as any OpenSSL client
does. Deliveries to an `https://` subscriber verify its certificate: against the
Destination's `CACerts` when set (delivered), else the system's trust store, which does
not know the throwaway CA (the event goes to the dead-letter sink, saying why).
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.mesh import Mesh, free_port
from tests.support.sinks import RecordingSink
from tests.support.tls import ThrowawayCA

pytestmark = pytest.mark.e2e

TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/default/triggers"


def test_https_end_to_end_with_a_throwaway_ca(tmp_path: Path) -> None:
    ca = ThrowawayCA(tmp_path / "ca")
    cert, key = ca.issue("mesh")
    mesh = Mesh(tmp_path / "data", api_port=free_port(), scheme="https",
                extra=["--tls-cert", str(cert), "--tls-key", str(key)])
    mesh.ssl_context = ca.client_context()
    with RecordingSink(tls=ca.server_context("subscriber")) as subscriber, \
            RecordingSink() as dead_letters:
        mesh.start()
        mesh.env["SSL_CERT_FILE"] = str(ca.path)  # for the CLI only: ripple up must not trust the CA
        try:
            assert mesh.url.startswith("https://") and mesh.data_url.startswith("https://")
            for url in (mesh.data_url, mesh.url):  # no plain HTTP on either listener
                with pytest.raises(OSError) as plain:
                    urllib.request.urlopen(url.replace("https", "http") + "/healthz", timeout=5)
                assert not isinstance(plain.value, urllib.error.HTTPError)
            untrusted = ssl.create_default_context()  # the system's store: not our CA
            with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
                urllib.request.urlopen(mesh.url + "/apis", timeout=5, context=untrusted)
            mesh.apply(f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: secure}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: verified}}
spec:
  broker: secure
  filter: {{attributes: {{type: dev.example.verified}}}}
  subscriber:
    uri: "{subscriber.url}/verified"
    CACerts: {json.dumps(ca.pem)}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: unverified}}
spec:
  broker: secure
  filter: {{attributes: {{type: dev.example.unverified}}}}
  subscriber: {{uri: "{subscriber.url}/unverified"}}
  delivery: {{retry: 0, deadLetterSink: {{uri: "{dead_letters.url}"}}}}
""")  # through the CLI, over HTTPS, with the token the config file holds for https://...
            broker = mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/brokers/secure")
            assert broker["status"]["address"]["url"] == f"{mesh.data_url}/default/secure"
            mesh.wait_ready(f"{TRIGGERS}/verified")
            mesh.wait_ready(f"{TRIGGERS}/unverified")
            assert mesh.send_event("/default/secure", "v-1", type="dev.example.verified") == 202
            got = subscriber.wait_for(1, timeout=30)
            assert got[0].path == "/verified" and got[0].ce["id"] == "v-1"
            sent = mesh.cli("event", "send", "--to", "broker:secure", "--type", "dev.example.unverified",
                            "--source", "/tests", "--id", "u-1")
            assert "status 202" in sent.stdout
            dead = dead_letters.wait_for(1, timeout=30)[0]
            assert dead.ce["id"] == "u-1"
            reason = base64.b64decode(dead.ce["knativeerrordata"]).decode()
            assert "certificate" in reason.lower(), reason
            assert [r.path for r in subscriber.received] == ["/verified"]
        finally:
            mesh.stop()
