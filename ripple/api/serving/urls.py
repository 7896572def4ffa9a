"""Where a Route (and so a Knative Service) is reached: the one URL scheme of serving.

Knative gives a Route `status.url` = `http://{name}.{namespace}.{domain}` and a tag
`http://{tag}-{name}.{namespace}.{domain}` (config-network's `domain-template` and
`tag-template`), which needs DNS (or a Host header) to reach. Ripple keeps Knative's
host names in `status.url` and in `status.traffic[].url`, with Knative's default domain
`svc.cluster.local`, so the router also routes by Host header; and it publishes in
`status.address.url` a URL that works from this machine without any DNS setup: a path
under the base URL of `ripple up`, `{base}/serving/{namespace}/{name}` (a tag:
`{base}/serving/{namespace}/{tag}-{name}`, the same label as the tag's host). Eventing
resolves a `ksvc` ref through `status.address.url`, so events reach the router too.

Everything about this scheme is in this module, so changing it is one edit: the Route
reconciler builds URLs with `route_url`, `tag_url` and `address_url`; the router (in
`serving/`) reads requests back with `parse_host` and `parse_path`.
"""

from __future__ import annotations

DOMAIN = "svc.cluster.local"
PATH_PREFIX = "/serving/"


def host_label(name: str, tag: str | None = None) -> str:
    """Knative's tag-template `{{.Tag}}-{{.Name}}`; the route's own name when untagged."""
    return f"{tag}-{name}" if tag else name


def route_host(namespace: str, name: str, tag: str | None = None, domain: str = DOMAIN) -> str:
    """Knative's domain-template `{{.Name}}.{{.Namespace}}.{{.Domain}}`."""
    return f"{host_label(name, tag)}.{namespace}.{domain}"


def route_url(namespace: str, name: str, domain: str = DOMAIN) -> str:
    """A Route's `status.url`, as Knative writes it."""
    return f"http://{route_host(namespace, name, domain=domain)}"


def tag_url(namespace: str, name: str, tag: str, domain: str = DOMAIN) -> str:
    """The `url` of a tagged `status.traffic` entry, as Knative writes it."""
    return f"http://{route_host(namespace, name, tag, domain)}"


def address_url(base_url: str, namespace: str, name: str, tag: str | None = None) -> str:
    """`status.address.url`: reachable without DNS, through `ripple up`'s port."""
    return f"{base_url.rstrip('/')}{PATH_PREFIX}{namespace}/{host_label(name, tag)}"


def parse_host(host: str, domain: str = DOMAIN) -> tuple[str, str] | None:
    """(namespace, label) of a Host header `label.namespace.domain[:port]`; the label is a
    route's name or `tag-name`, which the router tells apart by lookup (as Knative's
    ingress does, a route `a-b` and the tag `a` of route `b` share a host)."""
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    suffix = "." + domain
    if not host.endswith(suffix):
        return None
    label, dot, namespace = host[: -len(suffix)].partition(".")
    return (namespace, label) if dot and label and namespace and "." not in namespace else None


def parse_path(path: str) -> tuple[str, str, str] | None:
    """(namespace, label, the rest of the path) of `/serving/{namespace}/{label}[/rest]`."""
    if not path.startswith(PATH_PREFIX):
        return None
    namespace, _, rest = path[len(PATH_PREFIX):].partition("/")
    label, slash, tail = rest.partition("/")
    if not namespace or not label:
        return None
    return namespace, label, "/" + tail if slash else "/"
