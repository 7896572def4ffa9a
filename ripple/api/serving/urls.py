"""Where a Route (and so a Knative Service) is reached: the one URL scheme of serving.

Knative gives a Route `status.url` = `http://{name}.{namespace}.{domain}` and a tag
`http://{tag}-{name}.{namespace}.{domain}` (config-network's `domain-template` and
`tag-template`), which needs DNS to reach. On one machine Ripple's `status.url`,
`status.address.url` and each tag's `url` are paths under the base URL of `ripple up`
instead, `{base}/serving/{namespace}/{name}` and `.../{name}/@{tag}`, which work from this
machine with no DNS setup; the router also routes Knative's host names (`route_host`) by
the Host header. Eventing resolves a `ksvc` ref through `status.address.url`, so events
reach the router too.
"""

from __future__ import annotations

DOMAIN = "svc.cluster.local"
PATH_PREFIX = "/serving/"
TAG_MARK = "@"
"""`/serving/{namespace}/{name}/@{tag}`: `@` starts no DNS label, so no path of the
function's own is taken for a tag."""


def host_label(name: str, tag: str | None = None) -> str:
    """Knative's tag-template `{{.Tag}}-{{.Name}}`; the route's own name when untagged."""
    return f"{tag}-{name}" if tag else name


def route_host(namespace: str, name: str, tag: str | None = None, domain: str = DOMAIN) -> str:
    """Knative's domain-template `{{.Name}}.{{.Namespace}}.{{.Domain}}`."""
    return f"{host_label(name, tag)}.{namespace}.{domain}"


def route_url(namespace: str, name: str, domain: str = DOMAIN) -> str:
    """A Route's `status.url`, as Knative writes it."""
    return f"http://{route_host(namespace, name, domain=domain)}"


def address_url(base_url: str, namespace: str, name: str, tag: str | None = None) -> str:
    """A Route's `status.url` and `status.address.url` (a tag's `url`): reachable from this
    machine without DNS, through `ripple up`'s port. The router (`serving.traffic`) reads
    the same scheme back; `tests/unit/test_api_serving.py` holds the two together."""
    path = f"{base_url.rstrip('/')}{PATH_PREFIX}{namespace}/{name}"
    return f"{path}/{TAG_MARK}{tag}" if tag else path
