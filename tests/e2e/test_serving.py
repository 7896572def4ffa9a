"""Serving on a real `ripple up`: a Python function Service answers at its `status.url`
through the router; a second revision with a 50/50 split and a tag; a broken revision
never takes `@latest` traffic; both revisions scale to zero after the grace period (the
`config-autoscaler` ConfigMap shortens it to seconds, without a restart) and a request
brings one back, answered."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.mesh import Mesh
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

SERVING = "/apis/serving.knative.dev/v1/namespaces/default"

FUNCTION = '''
import os

def main(event, context):
    return {"revision": os.environ.get("K_REVISION"), "data": event.data}
'''

FAST_AUTOSCALER = """
apiVersion: v1
kind: ConfigMap
metadata: {name: config-autoscaler, namespace: knative-serving}
data:
  stable-window: "6s"
  scale-to-zero-grace-period: "6s"
"""


def service(path: Path, *, env: str = "1", command: str | None = None, traffic: str = "") -> str:
    run = command or f'["ripple", "function", "serve", "{path}:main"]'
    return f"""
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {{name: hello, namespace: default}}
spec:
  template:
    spec:
      containers:
        - image: unused
          command: {run}
          env: [{{name: VERSION, value: "{env}"}}]
{traffic}"""


def call(url: str, data: str = "x") -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST", headers={
        "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/test", "ce-type": "t",
        "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
        return dict(json.loads(answer.read()))


def ready(obj: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


def replicas(mesh: Mesh) -> dict[str, Any]:
    return {r["metadata"]["name"]: (r.get("status") or {}).get("actualReplicas")
            for r in mesh.get(f"{SERVING}/revisions")["items"]}


def test_a_function_service_splits_tags_scales_to_zero_and_back(mesh: Mesh, tmp_path: Path) -> None:
    fn = tmp_path / "fn.py"
    fn.write_text(FUNCTION)
    mesh.apply(FAST_AUTOSCALER)
    mesh.apply(service(fn))
    svc = mesh.wait_ready(f"{SERVING}/services/hello", timeout=30)
    url = svc["status"]["url"]
    assert url == f"{mesh.url}/serving/default/hello"
    assert call(url, "first") == {"revision": "hello-00001", "data": "first"}

    # a second revision, half the traffic, and a tag on the first
    mesh.apply(service(fn, env="2", traffic="""  traffic:
    - {revisionName: hello-00001, percent: 50, tag: one}
    - {latestRevision: true, percent: 50}
"""))
    wait_until(lambda: [t.get("revisionName") for t in
                        (mesh.get(f"{SERVING}/services/hello").get("status") or {}).get("traffic") or []]
               == ["hello-00001", "hello-00002"], what="the split is in the Service's status")
    svc = mesh.wait_ready(f"{SERVING}/services/hello", timeout=30)
    counts = {"hello-00001": 0, "hello-00002": 0}
    for _ in range(400):
        counts[call(url)["revision"]] += 1
    assert 150 <= counts["hello-00001"] <= 250, counts  # binomial(400, 0.5): 200 ± 5σ
    tag = next(t["url"] for t in svc["status"]["traffic"] if t.get("tag") == "one")
    assert {call(tag)["revision"] for _ in range(20)} == {"hello-00001"}

    # a broken third revision never takes @latest
    mesh.apply(service(fn, env="3", command='["python3", "-c", "raise SystemExit(3)"]', traffic="""  traffic:
    - {revisionName: hello-00001, percent: 50, tag: one}
    - {latestRevision: true, percent: 50}
"""))
    wait_until(lambda: (mesh.get(f"{SERVING}/services/hello")["status"].get("latestCreatedRevisionName")
                        == "hello-00003"), what="the third revision is created")
    assert mesh.get(f"{SERVING}/services/hello")["status"]["latestReadyRevisionName"] == "hello-00002"
    assert {call(url)["revision"] for _ in range(40)} <= {"hello-00001", "hello-00002"}

    # scale to zero, then a request brings a replica back and is answered
    wait_until(lambda: replicas(mesh).get("hello-00001") == 0 and replicas(mesh).get("hello-00002") == 0,
               timeout=60, what="both revisions at zero")
    assert call(tag, "cold")["revision"] == "hello-00001"
    wait_until(lambda: (replicas(mesh).get("hello-00001") or 0) >= 1, what="a replica again")


REPLYING = '''
from cloudevents.v1.http import CloudEvent

def main(event, context):
    return CloudEvent({"type": "dev.example.greeted", "source": "/greeter"},
                      {"greeting": f"hello {event.data['name']}"})
'''


def test_a_trigger_delivers_to_a_ksvc_and_its_reply_flows_back(mesh: Mesh, tmp_path: Path) -> None:
    from tests.support.sinks import RecordingSink

    fn = tmp_path / "greeter.py"
    fn.write_text(REPLYING)
    with RecordingSink() as sink:
        mesh.apply(f"""
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {{name: greeter, namespace: default}}
spec:
  template:
    spec:
      containers:
        - image: unused
          command: ["ripple", "function", "serve", "{fn}:main"]
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: serving, namespace: default}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: to-greeter, namespace: default}}
spec:
  broker: serving
  filter: {{attributes: {{type: dev.example.hello}}}}
  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: greeter}}}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: greeted, namespace: default}}
spec:
  broker: serving
  filter: {{attributes: {{type: dev.example.greeted}}}}
  subscriber: {{uri: "{sink.url}"}}
""")
        trigger = mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/to-greeter",
                                  timeout=30)
        assert trigger["status"]["subscriberUri"] == f"{mesh.url}/serving/default/greeter"
        mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/greeted")
        assert mesh.send_event("/default/serving", "h-1", type="dev.example.hello",
                               data=b'{"name": "ripple"}') == 202
        got = sink.wait_for(1)[0]
    assert got.ce["type"] == "dev.example.greeted"
    assert json.loads(got.body) == {"greeting": "hello ripple"}


BUSY = '''
import asyncio
import os

def init(context):
    context.user_data["pid"] = os.getpid()
    context.user_data["calls"] = 0

async def main(event, context):
    context.user_data["calls"] += 1
    wait = float((event.data or {}).get("sleep", 0.2)) if isinstance(event.data, dict) else 0.2
    await asyncio.sleep(wait)
    return {"pid": context.user_data["pid"], "calls": context.user_data["calls"]}
'''


def test_load_scales_a_revision_up_a_slow_call_times_out_and_init_is_reused(
        mesh: Mesh, tmp_path: Path) -> None:
    import concurrent.futures

    fn = tmp_path / "busy.py"
    fn.write_text(BUSY)
    mesh.apply(FAST_AUTOSCALER)
    mesh.apply(f"""
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {{name: busy, namespace: default}}
spec:
  template:
    metadata:
      annotations: {{autoscaling.knative.dev/target: "2", autoscaling.knative.dev/max-scale: "4"}}
    spec:
      timeoutSeconds: 2
      containers:
        - image: unused
          command: ["ripple", "function", "serve", "{fn}:main"]
""")
    url = mesh.wait_ready(f"{SERVING}/services/busy", timeout=30)["status"]["url"]

    # init runs once per replica process; its state is shared by the requests it serves
    first, second = call(url, {"sleep": 0}), call(url, {"sleep": 0})
    assert first["pid"] == second["pid"] and second["calls"] == first["calls"] + 1

    # 8 concurrent callers against a target of 2 in flight per replica: more replicas
    stop = time.monotonic() + 12
    def caller() -> int:
        done = 0
        while time.monotonic() < stop:
            call(url, {"sleep": 0.2})
            done += 1
        return done
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(caller) for _ in range(8)]
        wait_until(lambda: (replicas(mesh).get("busy-00001") or 0) >= 2, timeout=15,
                   what="the load scales busy-00001 to two replicas or more")
        assert sum(f.result() for f in futures) > 0

    # past timeoutSeconds: 504, and the replica is recycled, not wedged
    request = urllib.request.Request(url, data=json.dumps({"sleep": 10}).encode(), method="POST",
                                     headers={"ce-specversion": "1.0", "ce-id": "slow", "ce-source": "/t",
                                              "ce-type": "t", "content-type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError("a call past timeoutSeconds was answered")
    except urllib.error.HTTPError as failure:
        assert failure.code == 504
    wait_until(lambda: _answers(url), timeout=30, what="busy answers again after the recycle")


def _answers(url: str) -> bool:
    try:
        return "pid" in call(url, {"sleep": 0})
    except OSError:
        return False


def test_an_async_invocation_is_answered_202_and_its_result_is_posted_back(
        mesh: Mesh, tmp_path: Path) -> None:
    from tests.support.sinks import RecordingSink

    fn = tmp_path / "later.py"
    fn.write_text(FUNCTION)
    mesh.apply(service(fn).replace("name: hello", "name: later"))
    url = mesh.wait_ready(f"{SERVING}/services/later", timeout=30)["status"]["url"]
    with RecordingSink() as callback:
        request = urllib.request.Request(url, data=json.dumps("queued").encode(), method="POST", headers={
            "ce-specversion": "1.0", "ce-id": "a-1", "ce-source": "/t", "ce-type": "t",
            "content-type": "application/json", "Prefer": "respond-async",
            "X-Callback-Url": callback.url})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 202  # at once, once the request is stored
        got = callback.wait_for(1)[0]
    assert json.loads(got.body) == {"revision": "later-00001", "data": "queued"}


def test_with_two_workers_every_request_is_answered_from_zero_too(tmp_path: Path) -> None:
    """Worker 0 runs the replicas; worker 1's router finds them in worker 0's reports, and
    a request it gets for a revision at zero waits until the autoscaler brings one back."""
    fn = tmp_path / "fn.py"
    fn.write_text(FUNCTION)
    mesh = Mesh(tmp_path / "mesh", workers=2).start()
    try:
        mesh.apply(FAST_AUTOSCALER)
        mesh.apply(service(fn))
        url = mesh.wait_ready(f"{SERVING}/services/hello", timeout=30)["status"]["url"]
        assert {call(url)["revision"] for _ in range(20)} == {"hello-00001"}
        wait_until(lambda: replicas(mesh).get("hello-00001") == 0, timeout=60, what="at zero")
        assert {call(url)["revision"] for _ in range(20)} == {"hello-00001"}
    finally:
        mesh.stop()
