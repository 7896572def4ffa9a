"""Revisions as Kubernetes workloads: a Deployment plus a Service, both owned by the Revision.

On one machine a Revision's replicas are processes (`serving.runtime`); on Kubernetes they
are the pods of a Deployment named after the Revision, behind a Service of the same name
(`http://<revision>.<namespace>.svc.cluster.local`, port 80). `make_deployment` and
`make_service` are pure, Knative's `resources.MakeDeployment` and `MakeK8sService` in
spirit; `Workloads.run` is the shell, run under the leader Lease with the reconcilers:
every `POLL` seconds, for each Revision in the cache,
- the replicas are the KPA's decision (`ripple.scales`, which the autoscaler writes from the
  concurrency the router and activator report), else the Revision's initial scale (1);
- the Deployment and the Service are created when missing, and the Deployment patched
  when its replicas or its pod template differ from what the Revision wants;
- the Deployment's status is reported for the Revision reconciler (`ripple.reporting`,
  the same channel `serving.runtime` reports through on one machine): ready replicas,
  desired replicas, and a failed rollout's reason.

Kubernetes' garbage collector deletes both with their Revision (ownerReferences).
Called by `operator`.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
from typing import Any, Callable

import redis.asyncio as aioredis

from controllers import applying
from controllers.reconciling import ObjectRef
from controllers.platforms.kubernetes import api as kube
from ripple import errors, reporting, scales
from ripple.api import meta
from ripple.informers import Informer

log = logging.getLogger(__name__)

POLL = 1.0
PORT = 8080
"""The container port when the Revision names none (Knative's default user port)."""
REVISION_LABEL = "serving.knative.dev/revision"
TEMPLATE_HASH = "ripple.dev/template-hash"
CONSUMER = "kubernetes-workloads"
"""This reporter's field in the report hashes."""

Object = dict[str, Any]


def _port(container: Object) -> int:
    for port in container.get("ports") or []:
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
            return int(port["containerPort"])
    return PORT


def _labels(revision: Object) -> dict[str, str]:
    labels = {k: v for k, v in (meta.metadata(revision).get("labels") or {}).items()
              if k.startswith("serving.knative.dev/")}
    return {**labels, REVISION_LABEL: meta.key(revision)[1], "app.kubernetes.io/managed-by": "ripple"}


def make_deployment(revision: Object, replicas: int) -> Object:
    """The Deployment that runs a Revision's containers, `replicas` of them."""
    namespace, name = meta.key(revision)
    spec = revision.get("spec") or {}
    containers = []
    for container in spec.get("containers") or []:
        container = copy.deepcopy(container)
        port = _port(container)
        container.setdefault("name", "user-container")
        env = [e for e in container.get("env") or [] if e.get("name") != "PORT"]
        container["env"] = [*env, {"name": "PORT", "value": str(port)}]
        container["ports"] = [{"name": "user-port", "containerPort": port}]
        containers.append(container)
        break  # the serving container; sidecars are not supported yet
    pod: Object = {"containers": containers}
    for field in ("volumes", "serviceAccountName", "imagePullSecrets", "enableServiceLinks",
                  "automountServiceAccountToken"):
        if field in spec:
            pod[field] = copy.deepcopy(spec[field])
    if spec.get("timeoutSeconds"):
        pod["terminationGracePeriodSeconds"] = int(spec["timeoutSeconds"])
    labels = _labels(revision)
    template = {"metadata": {"labels": labels}, "spec": pod}
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels,
                     "annotations": {TEMPLATE_HASH: digest},
                     "ownerReferences": [applying.owner_reference(revision)]},
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {REVISION_LABEL: name}},
                 "template": template},
    }


def make_service(revision: Object) -> Object:
    """The Service in front of a Revision's pods: port 80 to the container's port."""
    namespace, name = meta.key(revision)
    containers = (revision.get("spec") or {}).get("containers") or [{}]
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(revision),
                     "ownerReferences": [applying.owner_reference(revision)]},
        "spec": {"selector": {REVISION_LABEL: name},
                 "ports": [{"name": "http", "port": 80, "targetPort": _port(containers[0])}]},
    }


def service_endpoint(namespace: str, name: str) -> str:
    """Where a Revision's pods are reached: its Service, by cluster DNS, port 80."""
    return f"{name}.{namespace}.svc.cluster.local:80"


def report_of(deployment: Object, endpoint: str = "") -> reporting.Report:
    """What the Revision reconciler reads from its platform (see `reconcilers.serving.revision`),
    and the routers (`serving.revisions.ReportedEndpoints`): the Service as the one endpoint
    once a replica is ready; the Service spreads requests over the pods."""
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    desired = int(spec.get("replicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    report: reporting.Report = {"ready": ready > 0 or (desired == 0 and bool(status)),
                                "actualReplicas": ready, "desiredReplicas": desired,
                                "endpoints": [endpoint] if ready > 0 and endpoint else []}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("status") == "False":
            report["error"] = condition.get("message") or "the rollout is stuck"
            report["reason"] = condition.get("reason") or "ProgressDeadlineExceeded"
    return report


class Workloads:
    def __init__(self, client: kube.KubeApi, informer: Informer,
                 redis: aioredis.Redis | None, *, poll: float = POLL,
                 changed: Callable[[ObjectRef], None] = lambda ref: None,
                 endpoint: Callable[[str, str], str] = service_endpoint) -> None:
        self.client, self.informer, self.redis, self.poll = client, informer, redis, poll
        self.endpoint = endpoint
        """(namespace, name) -> host:port of a Revision's Service."""
        self.changed = changed
        """Told when a Revision's report changed, so its reconciler reads it soon."""
        self._reported: dict[tuple[str, str, str], reporting.Report] = {}

    async def run(self) -> None:
        await self.informer.synced.wait()
        while True:
            try:
                await self.sync()
            except errors.RippleError as exc:
                log.warning("revision workloads not synced", extra={"error": str(exc)})
            await asyncio.sleep(self.poll)

    async def sync(self) -> None:
        wanted = await scales.read(self.redis) if self.redis is not None else {}
        reports: dict[tuple[str, str, str], reporting.Report] = {}
        for revision in self.informer.list("Revision"):
            key = meta.key(revision)
            scale = wanted.get(key)
            deployment = await self._ensure(revision, 1 if scale is None else scale.desired)
            if deployment is not None:
                reports[("Revision", *key)] = report_of(deployment, self.endpoint(*key))
        if self.redis is not None and reports:
            await reporting.write(self.redis, CONSUMER, reports)
            for (kind, namespace, name), report in reports.items():
                if self._reported.get((kind, namespace, name)) != report:
                    self.changed(ObjectRef(kind, namespace, name))
            self._reported = reports

    async def _ensure(self, revision: Object, replicas: int) -> Object | None:
        namespace, name = meta.key(revision)
        if not meta.metadata(revision).get("uid"):
            return None
        want = make_deployment(revision, replicas)
        try:
            current = await self.client.get(kube.DEPLOYMENTS, namespace, name)
        except errors.NotFound:
            current = await self.client.create(want)
        else:
            if not _controlled_by(current, revision):
                log.warning("a Deployment of the Revision's name is not the Revision's",
                            extra={"revision": f"{namespace}/{name}"})
                return None
            spec: Object = {}
            if current["spec"].get("replicas") != replicas:
                spec["replicas"] = replicas
            if _template_hash(current) != _template_hash(want):
                spec["template"] = want["spec"]["template"]
            if spec:
                patch: Object = {"spec": spec}
                if "template" in spec:
                    patch["metadata"] = {"annotations": {TEMPLATE_HASH: _template_hash(want)}}
                current = await self.client.patch(kube.DEPLOYMENTS, namespace, name, patch)
        try:
            await self.client.get(kube.SERVICES, namespace, name)
        except errors.NotFound:
            await self.client.create(make_service(revision))
        return current


def _controlled_by(obj: Object, owner: Object) -> bool:
    controller = applying.controller_of(obj)
    return controller is not None and controller.get("uid") == meta.metadata(owner).get("uid")


def _template_hash(deployment: Object) -> str:
    """The wanted pod template's digest: the API server defaults fields into the stored
    template, so it is compared by the digest of what was asked, kept in an annotation."""
    annotations = meta.metadata(deployment).get("annotations") or {}
    if TEMPLATE_HASH in annotations:
        return str(annotations[TEMPLATE_HASH])
    text = json.dumps(deployment["spec"]["template"], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
