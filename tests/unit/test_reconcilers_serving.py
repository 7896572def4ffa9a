"""Tables for the serving reconcilers (`controllers.reconcilers.serving`): revision naming,
immutability, latestCreated/latestReady, traffic resolution with tags, and the Service
status made of its Configuration's and Route's, in the style of Knative's
`pkg/reconciler/{service,configuration,route,revision}` table tests.

Objects are built admitted (`loading.admit`), so the reconcilers see what the store holds.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from controllers.reconcilers.serving import configuration as configuration_reconciler
from controllers.reconcilers.serving import resources
from controllers.reconcilers.serving import revision as revision_reconciler
from controllers.reconcilers.serving import route as route_reconciler
from controllers.reconcilers.serving import service as service_reconciler
from controllers.reconciling import Context, DataPlane, ObservedList, Result
from ripple.api import conditions, loading
from ripple.api.serving import revision_lifecycle, revision_types
from tests.unit.reconciler_tables import BASE, NS, SERVING, T0, T1, condition_map

Object = dict[str, Any]
SERVICE_UID = "uid-svc"
CONFIG_UID = "uid-cfg"


def container(**extra: Any) -> Object:
    return {"command": ["python", "-m", "http.server"], **extra}


def ksvc(name: str = "hello", *, generation: int = 1, traffic: list[Object] | None = None,
         template_name: str | None = None, env: str = "v1", uid: str = SERVICE_UID) -> Object:
    template: Object = {"spec": {"containers": [container(env=[{"name": "V", "value": env}])]}}
    if template_name:
        template["metadata"] = {"name": template_name}
    spec: Object = {"template": template}
    if traffic is not None:
        spec["traffic"] = traffic
    obj = loading.admit({"apiVersion": SERVING, "kind": "Service",
                         "metadata": {"name": name, "namespace": NS}, "spec": spec})
    obj["metadata"].update(generation=generation, uid=uid)
    return obj


def owned_by(obj: Object, owner: Object) -> Object:
    obj = copy.deepcopy(obj)
    obj["metadata"]["ownerReferences"] = [{
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    return obj


def config_of(service: Object, *, generation: int = 1, status: Object | None = None) -> Object:
    obj = loading.admit(owned_by(resources.make_configuration(service), service))
    obj["metadata"].update(generation=generation, uid=CONFIG_UID)
    if status is not None:
        obj["status"] = {"observedGeneration": generation, **status}
    return obj


def ready_status(state: str = conditions.TRUE, reason: str = "", message: str = "") -> Object:
    return {"conditions": [{"type": conditions.READY, "status": state, "reason": reason,
                            "message": message, "lastTransitionTime": "2026-01-01T00:00:00Z"}]}


def revision_of(configuration: Object, ready: str | None = conditions.TRUE,
                message: str = "") -> Object:
    """The Revision the Configuration makes for its current generation, as stored."""
    obj = loading.admit(owned_by(resources.make_revision(configuration), configuration))
    obj["metadata"]["generation"] = 1
    if ready is not None:
        obj["status"] = ready_status(ready, "ExitCode1" if ready == conditions.FALSE else "", message)
    return obj


def ctx(world: list[Object], reports: dict | None = None, synced: int | None = 2**63,
        now: Any = T0) -> Context:
    return Context(ObservedList(world), now, BASE, DataPlane(synced, reports or {}))


def names(result: Result) -> list[str]:
    return [c["metadata"]["name"] for c in result.children or ()]


# --- Configuration: naming, immutability, latestCreated and latestReady ------------------------

SVC = ksvc()
CFG1 = config_of(SVC)


def test_the_first_revision_is_name_00001_with_knatives_labels() -> None:
    result = configuration_reconciler.reconcile(CFG1, ctx([CFG1]))
    (rev,) = result.children or ()
    assert rev["metadata"]["name"] == "hello-00001"
    assert rev["metadata"]["labels"] == {
        "serving.knative.dev/configuration": "hello",
        "serving.knative.dev/configurationGeneration": "1",
        "serving.knative.dev/configurationUID": CONFIG_UID,
        "serving.knative.dev/service": "hello",
        "serving.knative.dev/serviceUID": SERVICE_UID}
    assert rev["spec"] == CFG1["spec"]["template"]["spec"]
    assert result.status["latestCreatedRevisionName"] == "hello-00001"
    assert "latestReadyRevisionName" not in result.status
    assert condition_map(result.status) == {"Ready": ("Unknown", "")}


@pytest.mark.parametrize("parent, generation, wanted", [
    ("hello", 1, "hello-00001"),
    ("hello", 2, "hello-00002"),
    ("hello", 123456, "hello-123456"),
    # kmeta.ChildName: too long, the parent's tail becomes its md5
    ("a" * 60, 7, "a" * 25 + hashlib.md5(b"a" * 60).hexdigest() + "-00007"),
])
def test_revision_names_follow_the_generation(parent: str, generation: int, wanted: str) -> None:
    name = revision_types.generated_name(parent, generation)
    assert name == wanted and len(name) <= 63


def test_child_name_is_knatives() -> None:
    long = "x" * 70
    name = revision_types.child_name(long, "-00001")
    assert len(name) == 63 and name.endswith("-00001")
    assert name.startswith("x" * 25) and name != revision_types.child_name("x" * 71, "-00001")


def test_a_template_change_makes_a_new_revision_and_keeps_the_old_one_unchanged() -> None:
    rev1 = revision_of(CFG1)
    cfg2 = config_of(ksvc(env="v2"), generation=2,
                     status={"latestCreatedRevisionName": "hello-00001",
                             "latestReadyRevisionName": "hello-00001", **ready_status()})
    result = configuration_reconciler.reconcile(cfg2, ctx([cfg2, rev1]))
    assert names(result) == ["hello-00001", "hello-00002"]
    old, new = result.children or ()
    # the old one exactly as stored: the applier has nothing to update
    assert old["spec"] == rev1["spec"] and old["metadata"]["labels"] == rev1["metadata"]["labels"]
    assert new["spec"]["containers"][0]["env"] == [{"name": "V", "value": "v2"}]
    assert new["metadata"]["labels"]["serving.knative.dev/configurationGeneration"] == "2"
    # @latest stays on the old Revision until the new one is Ready
    assert result.status["latestCreatedRevisionName"] == "hello-00002"
    assert result.status["latestReadyRevisionName"] == "hello-00001"
    assert condition_map(result.status)["Ready"][0] == "Unknown"


def test_latest_ready_follows_the_new_revision_once_it_is_ready() -> None:
    rev1 = revision_of(CFG1)
    cfg2 = config_of(ksvc(env="v2"), generation=2,
                     status={"latestCreatedRevisionName": "hello-00002",
                             "latestReadyRevisionName": "hello-00001"})
    rev2 = revision_of(cfg2)
    result = configuration_reconciler.reconcile(cfg2, ctx([cfg2, rev1, rev2]))
    assert names(result) == ["hello-00001", "hello-00002"]
    assert result.status["latestReadyRevisionName"] == "hello-00002"
    assert condition_map(result.status) == {"Ready": ("True", "")}


def test_a_broken_new_revision_never_takes_latest_ready() -> None:
    rev1 = revision_of(CFG1)
    cfg2 = config_of(ksvc(env="v2"), generation=2,
                     status={"latestCreatedRevisionName": "hello-00002",
                             "latestReadyRevisionName": "hello-00001"})
    rev2 = revision_of(cfg2, conditions.FALSE, "exit status 1")
    result = configuration_reconciler.reconcile(cfg2, ctx([cfg2, rev1, rev2]))
    assert result.status["latestCreatedRevisionName"] == "hello-00002"
    assert result.status["latestReadyRevisionName"] == "hello-00001"
    ready = next(c for c in result.status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "RevisionFailed")
    assert ready["message"] == 'Revision "hello-00002" failed with message: exit status 1.'


def test_latest_ready_never_moves_back_to_an_older_generation() -> None:
    cfg2 = config_of(ksvc(env="v2"), generation=2)
    rev2 = revision_of(cfg2)
    cfg3 = config_of(ksvc(env="v3"), generation=3,
                     status={"latestCreatedRevisionName": "hello-00003",
                             "latestReadyRevisionName": "hello-00002"})
    rev1 = revision_of(CFG1)
    rev3 = revision_of(cfg3, None)  # coming up
    result = configuration_reconciler.reconcile(cfg3, ctx([cfg3, rev1, rev2, rev3]))
    assert result.status["latestReadyRevisionName"] == "hello-00002"


def test_a_named_template_names_the_revision() -> None:
    cfg = config_of(ksvc(template_name="hello-blue"))
    result = configuration_reconciler.reconcile(cfg, ctx([cfg]))
    assert names(result) == ["hello-blue"]
    assert result.status["latestCreatedRevisionName"] == "hello-blue"


def test_a_revision_name_owned_by_someone_else_is_refused() -> None:
    cfg = config_of(ksvc(template_name="hello-blue"))
    stranger = revision_of(cfg)
    stranger["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    result = configuration_reconciler.reconcile(cfg, ctx([cfg, stranger]))
    assert names(result) == []
    ready = next(c for c in result.status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "RevisionFailed")
    assert '"hello-blue" already exists and is not owned by Configuration "hello"' in ready["message"]


def test_a_template_name_reused_for_another_generation_is_refused() -> None:
    old = revision_of(config_of(ksvc(template_name="hello-blue")))
    cfg2 = config_of(ksvc(template_name="hello-blue", env="v2"), generation=2)
    result = configuration_reconciler.reconcile(cfg2, ctx([cfg2, old]))
    assert names(result) == ["hello-blue"]  # the existing one, unchanged
    assert result.children[0]["spec"] == old["spec"]  # type: ignore[index]
    ready = next(c for c in result.status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "RevisionFailed" and "for generation 1" in ready["message"]


def test_a_deleted_latest_ready_revision_is_reported() -> None:
    cfg = config_of(SVC, status={"latestCreatedRevisionName": "hello-00001",
                                 "latestReadyRevisionName": "hello-00001"})
    result = configuration_reconciler.reconcile(cfg, ctx([cfg]))
    assert "latestReadyRevisionName" not in result.status
    assert condition_map(result.status)["Ready"] == ("False", "RevisionDeleted")


def test_reconciling_a_configuration_again_changes_nothing() -> None:
    rev1 = revision_of(CFG1)
    first = configuration_reconciler.reconcile(CFG1, ctx([CFG1, rev1])).status
    again = configuration_reconciler.reconcile({**CFG1, "status": first}, ctx([CFG1, rev1], now=T1))
    assert again.status == first


# --- Route: traffic resolution ------------------------------------------------------------------

def route_of(service: Object, *, generation: int = 1) -> Object:
    obj = loading.admit(owned_by(resources.make_route(service), service))
    obj["metadata"].update(generation=generation, uid="uid-route")
    return obj


READY_CFG = config_of(SVC, status={"latestCreatedRevisionName": "hello-00002",
                                   "latestReadyRevisionName": "hello-00002", **ready_status()})
REV1 = revision_of(CFG1)
REV2 = revision_of(config_of(ksvc(env="v2"), generation=2))
BROKEN = revision_of(config_of(ksvc(env="v3"), generation=3), conditions.FALSE, "exit 1")
COMING = revision_of(config_of(ksvc(env="v4"), generation=4), None)
WORLD = [READY_CFG, REV1, REV2, BROKEN, COMING]


def traffic_of(*targets: Object) -> list[Object]:
    return list(targets)


# (name, the Service's traffic, world, wanted status.traffic or None, AllTrafficAssigned)
ROUTE_CASES: list[tuple[str, list[Object] | None, list[Object], list[Object] | None, tuple[str, str]]] = [
    ("no traffic block: 100% to the latest ready revision", None, WORLD,
     [{"revisionName": "hello-00002", "latestRevision": True, "percent": 100}], ("True", "")),
    ("a split between a named revision and @latest",
     [{"revisionName": "hello-00001", "percent": 50}, {"latestRevision": True, "percent": 50}], WORLD,
     [{"revisionName": "hello-00001", "latestRevision": False, "percent": 50},
      {"revisionName": "hello-00002", "latestRevision": True, "percent": 50}], ("True", "")),
    ("tags get their own URL, a 0% tag included",
     [{"revisionName": "hello-00001", "percent": 100, "tag": "stable"},
      {"latestRevision": True, "percent": 0, "tag": "candidate"}], WORLD,
     [{"tag": "stable", "revisionName": "hello-00001", "latestRevision": False, "percent": 100,
       "url": f"{BASE}/serving/{NS}/hello/@stable"},
      {"tag": "candidate", "revisionName": "hello-00002", "latestRevision": True, "percent": 0,
       "url": f"{BASE}/serving/{NS}/hello/@candidate"}], ("True", "")),
    ("entries with the same (tag, revision, latestRevision) are merged",
     [{"revisionName": "hello-00001", "percent": 30}, {"revisionName": "hello-00001", "percent": 20},
      {"latestRevision": True, "percent": 50}], WORLD,
     [{"revisionName": "hello-00001", "latestRevision": False, "percent": 50},
      {"revisionName": "hello-00002", "latestRevision": True, "percent": 50}], ("True", "")),
    ("a failed revision named in traffic: not assigned, False",
     [{"revisionName": "hello-00003", "percent": 100}], WORLD, None, ("False", "RevisionMissing")),
    ("a revision still coming up: Unknown",
     [{"revisionName": "hello-00004", "percent": 100}], WORLD, None, ("Unknown", "RevisionMissing")),
    ("a revision that does not exist",
     [{"revisionName": "hello-00009", "percent": 100}], WORLD, None, ("False", "RevisionMissing")),
    ("a configuration with no ready revision yet: Unknown", None,
     [config_of(SVC, status={"latestCreatedRevisionName": "hello-00001"}), COMING], None,
     ("Unknown", "RevisionMissing")),
    ("a configuration whose only revision failed: False", None,
     [config_of(SVC, status={"latestCreatedRevisionName": "hello-00003",
                             **ready_status(conditions.FALSE, "RevisionFailed", "x")}), BROKEN],
     None, ("False", "RevisionMissing")),
    ("no configuration: ConfigurationMissing", None, [], None, ("False", "ConfigurationMissing")),
]


@pytest.mark.parametrize("name, traffic, world, wanted, assigned", ROUTE_CASES,
                         ids=[c[0] for c in ROUTE_CASES])
def test_route_traffic(name: str, traffic: list[Object] | None, world: list[Object],
                       wanted: list[Object] | None, assigned: tuple[str, str]) -> None:
    route = route_of(ksvc(traffic=traffic))
    status = route_reconciler.reconcile(route, ctx(world)).status
    assert condition_map(status)["AllTrafficAssigned"] == assigned
    assert status.get("traffic") == wanted
    assert status["url"] == f"{BASE}/serving/{NS}/hello"
    # Knative's route.go: the address only once every target is routable
    address = {"name": "http", "url": f"{BASE}/serving/{NS}/hello"} if wanted is not None else None
    assert status.get("address") == address
    assert condition_map(status)["CertificateProvisioned"] == ("True", "TLSNotEnabled")
    if assigned[0] == "True":
        assert condition_map(status)["Ready"] == ("True", "")


def test_an_unresolvable_target_keeps_the_traffic_last_resolved() -> None:
    # Knative's deferred errors: the router keeps sending traffic where it went.
    before = [{"revisionName": "hello-00001", "latestRevision": False, "percent": 100}]
    route = route_of(ksvc(traffic=[{"revisionName": "hello-00004", "percent": 100}]))
    address = {"name": "http", "url": f"{BASE}/serving/{NS}/hello"}
    route["status"] = {"traffic": before, "address": address}
    status = route_reconciler.reconcile(route, ctx(WORLD)).status
    assert status["traffic"] == before
    assert status["address"] == address  # what resolved it as a sink still does
    assert condition_map(status)["Ready"] == ("Unknown", "RevisionMissing")
    assert next(c for c in status["conditions"] if c["type"] == "AllTrafficAssigned")["message"] == (
        'Revision "hello-00004" is not yet ready.')


def test_a_revision_of_another_service_is_not_owned() -> None:
    other = copy.deepcopy(REV1)
    other["metadata"]["name"] = "other-00001"
    other["metadata"]["labels"]["serving.knative.dev/service"] = "other"
    route = route_of(ksvc(traffic=[{"revisionName": "other-00001", "percent": 100}]))
    status = route_reconciler.reconcile(route, ctx([*WORLD, other])).status
    assert condition_map(status)["AllTrafficAssigned"] == ("False", "NotOwned")


def test_a_route_waits_for_the_router() -> None:
    route = route_of(SVC)
    result = route_reconciler.reconcile(route, ctx(WORLD, synced=None))
    assert condition_map(result.status)["IngressReady"] == ("Unknown", "WaitingForDataPlane")
    assert result.requeue_after is not None


# --- Revision: what the platform reports --------------------------------------------------------

def bare_revision(**container_fields: Any) -> Object:
    return loading.admit({"apiVersion": SERVING, "kind": "Revision",
                          "metadata": {"name": "hello-00001", "namespace": NS},
                          "spec": {"containers": [container_fields]}})


KEY = ("Revision", NS, "hello-00001")
# (name, container, reports, conditions wanted (Ready, ResourcesAvailable, ContainerHealthy, Active), replicas)
REVISION_CASES: list[tuple[str, Object, list[Object] | None, dict[str, tuple[str, str]], tuple[int, int] | None]] = [
    ("no report yet: deploying", container(), None,
     {"Ready": ("Unknown", "Deploying"), "ResourcesAvailable": ("Unknown", "Deploying"),
      "ContainerHealthy": ("Unknown", "Deploying")}, None),
    ("ready with replicas: Ready and Active", container(),
     [{"ready": True, "actualReplicas": 2, "desiredReplicas": 3}],
     {"Ready": ("True", ""), "ResourcesAvailable": ("True", ""), "ContainerHealthy": ("True", ""),
      "Active": ("True", "")}, (2, 3)),
    ("scaled to zero: still Ready, Active False NoTraffic", container(),
     [{"ready": True, "actualReplicas": 0, "desiredReplicas": 0}],
     {"Ready": ("True", ""), "ResourcesAvailable": ("True", ""), "ContainerHealthy": ("True", ""),
      "Active": ("False", "NoTraffic")}, (0, 0)),
    ("a crashing container: the reported reason", container(),
     [{"ready": False, "actualReplicas": 0, "desiredReplicas": 1, "error": "exit status 3",
       "reason": "ExitCode3"}],
     {"Ready": ("False", "ExitCode3"), "ResourcesAvailable": ("False", "ExitCode3"),
      "ContainerHealthy": ("False", "ExitCode3"), "Active": ("Unknown", "Activating")}, (0, 1)),
    ("reports of two processes: replicas add up, an error wins", container(),
     [{"ready": True, "actualReplicas": 1, "desiredReplicas": 2},
      {"ready": True, "actualReplicas": 1, "desiredReplicas": 2, "error": "probe failed"}],
     {"Ready": ("False", "ContainerFailed"), "ResourcesAvailable": ("False", "ContainerFailed"),
      "ContainerHealthy": ("False", "ContainerFailed"), "Active": ("True", "")}, (2, 2)),
    ("an image with no command cannot run on one machine", {"image": "ghcr.io/knative/helloworld-go"},
     None, {"Ready": ("False", "CommandRequired"), "ResourcesAvailable": ("False", "CommandRequired"),
            "ContainerHealthy": ("False", "CommandRequired"), "Active": ("False", "NoTraffic")}, (0, 0)),
    ("an image with no command runs where the platform reports it (Kubernetes)",
     {"image": "ghcr.io/knative/helloworld-go"}, [{"ready": True, "actualReplicas": 1, "desiredReplicas": 1}],
     {"Ready": ("True", ""), "ResourcesAvailable": ("True", ""), "ContainerHealthy": ("True", ""),
      "Active": ("True", "")}, (1, 1)),
]


@pytest.mark.parametrize("name, fields, reports, wanted, replicas", REVISION_CASES,
                         ids=[c[0] for c in REVISION_CASES])
def test_revision(name: str, fields: Object, reports: list[Object] | None,
                  wanted: dict[str, tuple[str, str]], replicas: tuple[int, int] | None) -> None:
    rev = bare_revision(**fields)
    status = revision_reconciler.reconcile(rev, ctx([], {KEY: reports} if reports else {})).status
    assert condition_map(status) == wanted
    got = (status.get("actualReplicas"), status.get("desiredReplicas"))
    assert got == (replicas if replicas is not None else (None, None))


def test_the_no_command_message_says_what_to_do() -> None:
    status = revision_reconciler.reconcile(bare_revision(image="example.com/app"), ctx([])).status
    message = next(c for c in status["conditions"] if c["type"] == "Ready")["message"]
    assert "add a command" in message and "run this Service on Kubernetes" in message
    assert "example.com/app" in message


def test_a_ready_revision_stays_ready_until_its_runner_reports_again() -> None:
    rev = bare_revision(**container())
    first = revision_reconciler.reconcile(rev, ctx([], {KEY: [{"ready": True, "actualReplicas": 1,
                                                               "desiredReplicas": 1}]})).status
    again = revision_reconciler.reconcile({**rev, "status": first}, ctx([], now=T1)).status
    assert revision_lifecycle.CONDITIONS.is_ready(again)


# --- Service: children and status -----------------------------------------------------------------

def test_a_service_owns_a_configuration_and_a_route_of_its_name() -> None:
    svc = ksvc(traffic=[{"revisionName": "hello-00001", "percent": 50},
                        {"latestRevision": True, "percent": 50, "tag": "next"}])
    result = service_reconciler.reconcile(svc, ctx([]))
    configuration, route = result.children or ()
    assert (configuration["kind"], route["kind"]) == ("Configuration", "Route")
    assert configuration["metadata"]["name"] == route["metadata"]["name"] == "hello"
    assert configuration["spec"] == {"template": svc["spec"]["template"]}
    assert configuration["metadata"]["labels"] == {"serving.knative.dev/service": "hello",
                                                   "serving.knative.dev/serviceUID": SERVICE_UID}
    assert route["spec"]["traffic"] == [
        {"revisionName": "hello-00001", "percent": 50, "latestRevision": False},
        {"latestRevision": True, "percent": 50, "tag": "next", "configurationName": "hello"}]
    # both children pass admission once the applier gives them their ownerReference
    loading.admit(owned_by(configuration, svc))
    loading.admit(owned_by(route, svc))
    assert condition_map(result.status)["Ready"] == ("Unknown", "")


def service_world(route_status: Object | None = None, route_generation: int = 1) -> list[Object]:
    svc = ksvc()
    configuration = config_of(svc, status={"latestCreatedRevisionName": "hello-00002",
                                           "latestReadyRevisionName": "hello-00002", **ready_status()})
    route = route_of(svc, generation=route_generation)
    route["status"] = route_status if route_status is not None else route_reconciler.reconcile(
        route, ctx([configuration, REV2])).status
    return [configuration, route, REV2]


def test_a_service_status_is_its_childrens() -> None:
    world = service_world()
    status = service_reconciler.reconcile(ksvc(), ctx(world)).status
    assert condition_map(status) == {"Ready": ("True", ""), "ConfigurationsReady": ("True", ""),
                                     "RoutesReady": ("True", "")}
    assert status["latestCreatedRevisionName"] == status["latestReadyRevisionName"] == "hello-00002"
    assert status["url"] == f"{BASE}/serving/{NS}/hello"
    assert status["address"]["url"] == f"{BASE}/serving/{NS}/hello"
    assert status["traffic"] == [{"revisionName": "hello-00002", "latestRevision": True, "percent": 100}]


def test_a_route_that_has_not_caught_up_is_out_of_date() -> None:
    world = service_world()
    world[1]["metadata"]["generation"] = 2  # a newer spec than its status describes
    status = service_reconciler.reconcile(ksvc(), ctx(world)).status
    assert condition_map(status)["RoutesReady"] == ("Unknown", "OutOfDate")


def test_traffic_not_yet_on_the_latest_ready_revision_is_not_migrated() -> None:
    stale = [{"revisionName": "hello-00001", "latestRevision": True, "percent": 100}]
    route_status = {"observedGeneration": 1, "traffic": stale, **ready_status()}
    status = service_reconciler.reconcile(ksvc(), ctx(service_world(route_status))).status
    assert condition_map(status)["RoutesReady"] == ("Unknown", "TrafficNotMigrated")


def test_a_configuration_the_service_does_not_own_is_reported_and_left_alone() -> None:
    stranger = config_of(ksvc(uid="other-uid"))
    result = service_reconciler.reconcile(ksvc(), ctx([stranger]))
    assert names(result) == ["hello"] and result.children[0]["kind"] == "Route"  # type: ignore[index]
    assert condition_map(result.status)["ConfigurationsReady"] == ("False", "NotOwned")


def test_reconciling_a_service_again_changes_nothing() -> None:
    world = service_world()
    first = service_reconciler.reconcile(ksvc(), ctx(world)).status
    again = service_reconciler.reconcile({**ksvc(), "status": first}, ctx(world, now=T1)).status
    assert again == first
