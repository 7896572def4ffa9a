"""`ripple manifests`, `ripple operator`, `ripple data-plane` and `ripple router`: Ripple on
Kubernetes.

Registered by `ripple.cli.main`. `manifests crds` prints the CRDs generated from
`ripple.api` (`manifests/kubernetes/crds.yaml` is its output). `operator` runs the kopf
operator of `controllers.platforms.kubernetes`, imported only when it runs: kopf and the
kubernetes client are the `kubernetes` extra.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ripple import errors


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    manifests = commands.add_parser("manifests", help="print Ripple's Kubernetes manifests",
                                    parents=parents)
    which = manifests.add_subparsers(dest="manifests", required=True, metavar="WHAT")
    crds = which.add_parser("crds", help="the CustomResourceDefinitions of every served kind")
    crds.set_defaults(handler=run_crds)

    operator = commands.add_parser(
        "operator", parents=parents,
        help="reconcile Ripple's kinds on a Kubernetes cluster (kubeconfig or in-cluster)")
    scope = operator.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", action="append", default=[], metavar="NS",
                       help="watch this namespace (repeatable)")
    scope.add_argument("--all-namespaces", "-A", action="store_true",
                       help="watch every namespace (the default)")
    operator.add_argument("--ingress-url", default=None, metavar="URL",
                          help="the base of broker and channel addresses (default "
                               "http://ripple-ingress.ripple-system.svc.cluster.local, "
                               "env RIPPLE_INGRESS_URL)")
    operator.add_argument("--lease-namespace", default=None, metavar="NS",
                          help="where the leader Lease lives (default: the pod's namespace, "
                               "else ripple-system)")
    operator.add_argument("--redis-url", default=None, metavar="URL",
                          help="the shared Redis the data plane reports to (env RIPPLE_REDIS_URL)")
    operator.add_argument("--health-port", type=int, default=8080, metavar="PORT",
                          help="kopf's liveness endpoint, http://0.0.0.0:PORT/healthz (0: none)")
    operator.set_defaults(handler=run_operator)

    plane = commands.add_parser(
        "data-plane", parents=parents,
        help="serve the eventing data plane on a Kubernetes cluster (the ripple-data-plane pods)")
    plane.add_argument("--host", default="0.0.0.0", help="address to serve on")
    plane.add_argument("--port", type=int, default=8080, help="port to serve on")
    plane.add_argument("--redis-url", default=None, metavar="URL",
                       help="the shared Redis (env RIPPLE_REDIS_URL)")
    plane.set_defaults(handler=run_data_plane)

    router = commands.add_parser(
        "router", parents=parents,
        help="serve the serving router and activator on a Kubernetes cluster (ripple-router)")
    router.add_argument("--host", default="0.0.0.0", help="address to serve on")
    router.add_argument("--port", type=int, default=8080, help="port to serve on")
    router.add_argument("--redis-url", default=None, metavar="URL",
                        help="the shared Redis (env RIPPLE_REDIS_URL)")
    router.set_defaults(handler=run_data_plane, entry="router")


def run_data_plane(args: argparse.Namespace, api: Any) -> int:
    """`ripple data-plane`, and `ripple router` (the same shape, another set of planes)."""
    import asyncio
    import logging
    import os

    from ripple.settings import Settings

    redis_url = shared_store(args)
    if not redis_url:
        raise errors.RippleError(f"'ripple {args.command}' needs the shared Redis: "
                                 "--redis-url or RIPPLE_REDIS_URL")
    try:
        from controllers.platforms.kubernetes import dataplane, router
        from controllers.platforms.kubernetes.operator import load_configuration
    except ImportError as failure:
        raise errors.RippleError(
            f"'ripple {args.command}' needs the kubernetes extra (pip install 'ripple[kubernetes]'): "
            f"{failure}") from None
    logging.basicConfig(level=os.environ.get("RIPPLE_LOG_LEVEL", "INFO"))
    settings = Settings(host=args.host, port=args.port,
                        public_url=os.environ.get("RIPPLE_PUBLIC_URL") or None)
    run = router.run_router if getattr(args, "entry", "") == "router" else dataplane.run_data_plane
    asyncio.run(run(settings, load_configuration(), redis_url=redis_url))
    return 0


def run_crds(args: argparse.Namespace, api: Any) -> int:
    import ripple.api  # noqa: F401  (registers the kinds)
    from ripple.api import crds

    sys.stdout.write(crds.render())
    return 0


def shared_store(args: argparse.Namespace) -> str | None:
    """`--redis-url`, else `RIPPLE_REDIS_URL`, checked by `ripple up`'s rules (scheme, port,
    a cluster's seeds, `?replica_acks=N`): a bad one is refused naming where it came from."""
    import os

    from ripple.cli.up import store_url

    url: str | None = args.redis_url or os.environ.get("RIPPLE_REDIS_URL") or None
    if url is not None:
        try:
            store_url(url)
        except ValueError as bad:
            where = "--redis-url" if args.redis_url else "RIPPLE_REDIS_URL"
            raise errors.RippleError(f"{where}: {bad}") from None
    return url


def run_operator(args: argparse.Namespace, api: Any) -> int:
    args.redis_url = shared_store(args)
    try:
        from controllers.platforms.kubernetes.operator import main as run
    except ImportError as failure:
        raise errors.RippleError(
            f"'ripple operator' needs the kubernetes extra (pip install 'ripple[kubernetes]'): "
            f"{failure}") from None
    return int(run(args))
