"""The Kubernetes parts of a RevisionSpec: containers, env, ports and probes.

Knative's `pkg/apis/serving/k8s_validation.go` (`ValidatePodSpec`, `ValidateContainer`,
`validateContainerPorts`, `validateProbe`), for the fields Ripple reads; the others Knative
lets through (`resources`, `securityContext`, `volumeMounts`, ...) are checked for shape
only, and are honoured on Kubernetes alone.

Where Ripple differs it says so: `image` may be left out when `command` is given, since a
revision runs as a process on one machine (`command`, `args`, `env`, `workingDir`,
listening on `$PORT`); one with neither is refused. A revision whose container has an
`image` and no `command` is admitted (Knative's documentation manifests apply
unchanged), and its Revision reports why it cannot run here.

Called by `revision_validation`.
"""

from __future__ import annotations

import re
from typing import Any

from ripple.api import fields, meta
from ripple.api.serving import revision_types
from ripple.errors import FieldError

# Ports the queue-proxy and the activator use (pkg/apis/serving/k8s_validation.go).
RESERVED_PORTS = (8012, 8013, 8022, 9090, 9091)
PORT_NAMES = ("", "http1", "h2c")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
ENV_FIELDS = ("name", "value", "valueFrom")
ENV_SOURCES = ("secretKeyRef", "configMapKeyRef")
KEY_REF_FIELDS = ("name", "key", "optional")
PORT_FIELDS = ("name", "containerPort", "protocol", "hostIP", "hostPort")
PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")
PROBE_FIELDS = (*PROBE_HANDLERS, "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                "successThreshold", "failureThreshold", "terminationGracePeriodSeconds")
HTTP_GET_FIELDS = ("path", "port", "host", "scheme", "httpHeaders")


def validate_pod_spec(spec: dict[str, Any], path: str) -> fields.Errors:
    errs: fields.Errors = []
    found = spec.get("containers")
    if found is None:
        errs.append(FieldError(fields.join(path, "containers"), fields.MISSING))
        return errs
    if not isinstance(found, list):
        errs.append(FieldError(fields.join(path, "containers"), fields.wrong_type("a list", found)))
        return errs
    if not found:
        errs.append(FieldError(fields.join(path, "containers"), fields.MISSING))
        return errs
    names: dict[str, int] = {}
    with_ports = []
    for i, container in enumerate(found):
        where = fields.index(fields.join(path, "containers"), i)
        c = fields.mapping(container, where, errs)
        if c is None:
            continue
        errs.extend(validate_container(c, where))
        name = c.get("name")
        if isinstance(name, str) and name:
            if name in names:
                errs.append(FieldError(fields.join(where, "name"),
                                       f'duplicate container name "{name}"'))
            names[name] = i
        if c.get("ports"):
            with_ports.append(i)
    if len(found) > 1 and len(with_ports) != 1:
        errs.append(FieldError(fields.join(path, "containers"), (
            "exactly one container must have ports: the serving container, which receives "
            f"the requests (found {len(with_ports)})")))
    for name in ("volumes", "imagePullSecrets"):
        if fields.present(spec, name) and not isinstance(spec[name], list):
            errs.append(FieldError(fields.join(path, name), fields.wrong_type("a list", spec[name])))
    if fields.present(spec, "serviceAccountName"):
        fields.string(spec["serviceAccountName"], fields.join(path, "serviceAccountName"), errs)
    for name in ("enableServiceLinks", "automountServiceAccountToken"):
        if fields.present(spec, name):
            fields.boolean(spec[name], fields.join(path, name), errs)
    return errs


def validate_container(c: dict[str, Any], path: str) -> fields.Errors:
    errs: fields.Errors = []
    fields.known_fields(c, revision_types.CONTAINER_FIELDS, path, errs)
    if fields.present(c, "name"):
        name = fields.string(c["name"], fields.join(path, "name"), errs)
        if name and not meta.is_dns1123_label(name):
            errs.append(FieldError(fields.join(path, "name"), f'invalid value "{name}": {meta.LABEL_RULE}'))
    has_command = fields.present(c, "command") and c["command"] != []
    if fields.present(c, "image"):
        fields.string(c["image"], fields.join(path, "image"), errs, nonempty=True)
    elif not has_command:
        errs.append(FieldError(fields.join(path, "image"), (
            f"{fields.MISSING}: give an image, or a command to run the container as a process "
            "on this machine")))
    for name in ("command", "args"):
        if fields.present(c, name):
            _strings(c[name], fields.join(path, name), errs)
    if fields.present(c, "workingDir"):
        fields.string(c["workingDir"], fields.join(path, "workingDir"), errs)
    if fields.present(c, "env"):
        errs.extend(_validate_env(c["env"], fields.join(path, "env")))
    if fields.present(c, "envFrom") and not isinstance(c["envFrom"], list):
        errs.append(FieldError(fields.join(path, "envFrom"), fields.wrong_type("a list", c["envFrom"])))
    ports = None
    if fields.present(c, "ports"):
        ports = _validate_ports(c["ports"], fields.join(path, "ports"), errs)
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        if fields.present(c, probe):
            errs.extend(_validate_probe(c[probe], fields.join(path, probe), ports))
    for name in ("resources", "securityContext"):
        if fields.present(c, name):
            fields.mapping(c[name], fields.join(path, name), errs)
    if fields.present(c, "volumeMounts") and not isinstance(c["volumeMounts"], list):
        errs.append(FieldError(fields.join(path, "volumeMounts"),
                               fields.wrong_type("a list", c["volumeMounts"])))
    return errs


def _strings(value: object, path: str, errs: fields.Errors) -> None:
    if not isinstance(value, list):
        errs.append(FieldError(path, fields.wrong_type("a list of strings", value)))
        return
    for i, item in enumerate(value):
        fields.string(item, fields.index(path, i), errs)


def _validate_env(value: object, path: str) -> fields.Errors:
    errs: fields.Errors = []
    if not isinstance(value, list):
        errs.append(FieldError(path, fields.wrong_type("a list", value)))
        return errs
    for i, item in enumerate(value):
        where = fields.index(path, i)
        env = fields.mapping(item, where, errs)
        if env is None:
            continue
        fields.known_fields(env, ENV_FIELDS, where, errs)
        name = fields.required(env, "name", where, errs)
        if name is not None and fields.string(name, fields.join(where, "name"), errs):
            if not _ENV_NAME.fullmatch(name):
                errs.append(FieldError(fields.join(where, "name"), (
                    f'invalid value "{name}": a valid environment variable name must consist of '
                    "alphabetic characters, digits, '_', '-', or '.', and must not start with a digit")))
        if fields.present(env, "value"):
            fields.string(env["value"], fields.join(where, "value"), errs)
        if fields.present(env, "valueFrom"):
            if fields.present(env, "value"):
                errs.append(FieldError(fields.join(where, "valueFrom"),
                                       "may not be specified when `value` is not empty"))
            errs.extend(_validate_env_source(env["valueFrom"], fields.join(where, "valueFrom")))
    return errs


def _validate_env_source(value: object, path: str) -> fields.Errors:
    errs: fields.Errors = []
    source = fields.mapping(value, path, errs)
    if source is None:
        return errs
    fields.known_fields(source, ENV_SOURCES, path, errs)
    given = [k for k in ENV_SOURCES if fields.present(source, k)]
    if len(given) != 1:
        errs.append(FieldError(path, f"expected exactly one of: {', '.join(ENV_SOURCES)}"))
    for k in given:
        ref = fields.mapping(source[k], fields.join(path, k), errs)
        if ref is None:
            continue
        fields.known_fields(ref, KEY_REF_FIELDS, fields.join(path, k), errs)
        for name in ("name", "key"):
            v = fields.required(ref, name, fields.join(path, k), errs)
            if v is not None:
                fields.string(v, fields.join(fields.join(path, k), name), errs)
    return errs


def _validate_ports(value: object, path: str, errs: fields.Errors) -> int | None:
    """Knative allows one port, the one the container listens on; returns it."""
    if not isinstance(value, list):
        errs.append(FieldError(path, fields.wrong_type("a list", value)))
        return None
    if len(value) > 1:
        errs.append(FieldError(path, "more than one container port is set"))
    found = None
    for i, item in enumerate(value):
        where = fields.index(path, i)
        port = fields.mapping(item, where, errs)
        if port is None:
            continue
        fields.known_fields(port, PORT_FIELDS, where, errs)
        number = port.get("containerPort")
        if number is not None and fields.integer(number, fields.join(where, "containerPort"), errs) is not None:
            if number in RESERVED_PORTS:
                errs.append(FieldError(fields.join(where, "containerPort"), (
                    f"{number} is a reserved port; reserved ports: "
                    f"{', '.join(map(str, RESERVED_PORTS))}")))
            elif not 0 < number <= 65535:
                errs.append(FieldError(fields.join(where, "containerPort"),
                                       f"expected 0 < {number} <= 65535"))
            else:
                found = number
        name = port.get("name")
        if name is not None and fields.string(name, fields.join(where, "name"), errs) is not None:
            if name not in PORT_NAMES:
                errs.append(FieldError(fields.join(where, "name"), (
                    f'invalid value "{name}": must be empty, "http1" or "h2c"')))
        protocol = port.get("protocol")
        if protocol is not None and protocol != "TCP":
            errs.append(FieldError(fields.join(where, "protocol"), (
                f'invalid value "{protocol}": must be "TCP"')))
        for host in ("hostIP", "hostPort"):
            if fields.present(port, host):
                errs.append(FieldError(fields.join(where, host), "must not set the field(s)"))
    return found


def _validate_probe(value: object, path: str, port: int | None) -> fields.Errors:
    errs: fields.Errors = []
    probe = fields.mapping(value, path, errs)
    if probe is None:
        return errs
    fields.known_fields(probe, PROBE_FIELDS, path, errs)
    handlers = [h for h in PROBE_HANDLERS if fields.present(probe, h)]
    if len(handlers) > 1:
        errs.append(FieldError(path, (
            f"expected exactly one, got both: {', '.join(handlers)}")))
    for name in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                 "failureThreshold"):
        if fields.present(probe, name):
            n = fields.integer(probe[name], fields.join(path, name), errs)
            if n is not None and n < 0:
                errs.append(FieldError(fields.join(path, name), f"expected 0 <= {n}"))
    get = probe.get("httpGet")
    if get is not None:
        where = fields.join(path, "httpGet")
        found = fields.mapping(get, where, errs)
        if found is not None:
            fields.known_fields(found, HTTP_GET_FIELDS, where, errs)
            if fields.present(found, "path"):
                fields.string(found["path"], fields.join(where, "path"), errs)
            errs.extend(_probe_port(found, where, port))
    tcp = probe.get("tcpSocket")
    if isinstance(tcp, dict):
        errs.extend(_probe_port(tcp, fields.join(path, "tcpSocket"), port))
    return errs


def _probe_port(handler: dict[str, Any], path: str, port: int | None) -> fields.Errors:
    """Knative: a probe's port, when set, is the container's port (or 0)."""
    value = handler.get("port")
    if value in (None, 0) or isinstance(value, str):
        return []
    if port is not None and value != port:
        return [FieldError(fields.join(path, "port"), (
            f"may only be set to the containerPort {port}, or left out"))]
    return []
