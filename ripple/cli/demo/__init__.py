"""Ripple's demos (issue #12): `ripple demo ci` (`ripple.cli.demo.ci`).

`register` adds their flags to the CLI; a demo's module is imported only when it runs,
since it loads what `ripple up` loads (the resource API, the local platform's manifests)
and every other command of the CLI would pay for it (tests/unit/test_cli_imports.py).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="run a demo end to end")
    demos = demo.add_subparsers(dest="demo", required=True, metavar="DEMO")
    ci = demos.add_parser("ci", parents=parents,
                          help="Git pushes drive a CI flow (manifests/examples/ci-flow)")
    ci.add_argument("--host", default="127.0.0.1", help="address ripple up serves on")
    ci.add_argument("--port", type=int, default=8080, help="ripple up's port (default 8080)")
    ci.add_argument("--data-dir", default=".ripple", help="ripple up's data dir (default .ripple)")
    ci.add_argument("--exit", action="store_true",
                    help="stop once both pushes are reported instead of staying up")
    ci.set_defaults(handler=run_ci)


def run_ci(args: argparse.Namespace, api: Any) -> int:
    from ripple.cli.demo import ci

    return ci.run(args, api)
