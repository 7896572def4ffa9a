"""The `ripple` command line: argument parsing and the one place errors become exit codes.

The console script `ripple` calls `main()`. Each command group lives in
`ripple.cli.commands.<group>` and registers its parser with a `handler(args, api)`.
`ripple up` (in `ripple.cli.up`) is imported only when it runs, so client commands do not
pay for the server's imports. Every failure prints one line, `Error: ...`, and exits 1.
"""

from __future__ import annotations

import argparse
import errno
import os
import platform
import sys

from ripple import __version__, errors
from ripple.cli import credentials, demo, kubernetes
from ripple.cli.client import DEFAULT_SERVER, Client
from ripple.cli.commands import (
    apply,
    completion,
    broker,
    channel,
    event,
    flows,
    function,
    resources,
    revision,
    route,
    service,
    source,
    subscription,
    trigger,
    waiting,
)
from ripple.cli.commands import dlq
from ripple.cli.commands.common import Handler


LISTEN_ERRORS = (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL)


def build_parser(*, with_up: bool = False) -> argparse.ArgumentParser:
    """The whole command tree; `up`'s own flags only when `with_up`, as importing it is slow."""
    server_default = os.environ.get("RIPPLE_SERVER") or DEFAULT_SERVER
    parser = argparse.ArgumentParser(
        prog="ripple", description="Ripple: a Knative-compatible eventing mesh."
    )
    parser.add_argument("--version", action="version", version=f"ripple {__version__}")
    parser.add_argument(
        "--server", default=server_default,
        help=f"the Ripple API URL (env RIPPLE_SERVER, default {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--token", default=None,
        help="the API token (env RIPPLE_TOKEN; default: the one `ripple up` recorded for --server)",
    )
    # Subcommands accept --server too; SUPPRESS keeps the global value when it is absent.
    server_flag = argparse.ArgumentParser(add_help=False)
    server_flag.add_argument("--server", default=argparse.SUPPRESS, help="the Ripple API URL")
    server_flag.add_argument("--token", default=argparse.SUPPRESS, help="the API token")
    parents = [server_flag]

    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="run the whole mesh on this machine")
    if with_up:
        _wire_up(up)
    else:
        up.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        up.set_defaults(handler=run_up)
    apply.register(commands, parents)
    resources.register(commands, parents)
    broker.register(commands, parents)
    trigger.register(commands, parents)
    channel.register(commands, parents)
    subscription.register(commands, parents)
    source.register(commands, parents)
    flows.register(commands, parents)
    event.register(commands, parents)
    function.register(commands, parents)
    service.register(commands, parents)
    revision.register(commands, parents)
    route.register(commands, parents)
    waiting.register(commands, parents)
    dlq.register(commands, parents)  # Ripple's dead-letter store
    # Ripple on Kubernetes (issue #11): `manifests crds` and `operator`.
    kubernetes.register(commands, parents)
    demo.register(commands, parents)  # issue #12: `ripple demo ci`
    version = commands.add_parser("version", help="print the version")
    version.set_defaults(handler=run_version)
    completion.register(commands)
    show_help_when_bare(parser)
    return parser


def show_help_when_bare(parser: argparse.ArgumentParser) -> None:
    """`ripple` and `ripple trigger` without a verb print their help and exit 0, as kn and
    kubectl do, instead of argparse's "the following arguments are required" (exit 2)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.required = False
            parser.set_defaults(handler=_printer(parser))
            for child in dict.fromkeys(action.choices.values()):
                show_help_when_bare(child)


def _printer(parser: argparse.ArgumentParser) -> Handler:
    def print_help(args: argparse.Namespace, api: Client) -> int:
        parser.print_help()
        return 0

    return print_help


def _wire_up(parser: argparse.ArgumentParser) -> None:
    """`up`'s flags come from `ripple.cli.up`; without it, `up` still parses and explains."""
    parser.set_defaults(handler=run_up)
    try:
        from ripple.cli import up
    except ImportError:
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        return
    up.add_arguments(parser)
    up.one_line_errors(parser)


def run_up(args: argparse.Namespace, api: Client) -> int:
    try:
        from ripple.cli import up
    except ImportError as failure:
        raise errors.RippleError(f"'ripple up' is not available in this build: {failure}") from None
    return int(up.run(args))


def run_version(args: argparse.Namespace, api: Client) -> int:
    print(f"Version:  {__version__}")
    print(f"Python:   {platform.python_version()}")
    print(f"Server:   {api.server}")
    return 0


def command_of(argv: list[str]) -> str | None:
    """The command word, skipping global flags: `--server URL up` -> `up`."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("--server", "--token"):
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = command_of(argv)
    parser = build_parser(with_up=command == "up")
    if command == "up":  # every bad flag of `ripple up` is one line, exit 2 (see up.one_line_errors)
        args, extra = parser.parse_known_args(argv)
        if extra:
            print(f"Error: ripple up: unrecognized arguments: {' '.join(extra)}", file=sys.stderr)
            return 2
    else:
        args = parser.parse_args(argv)
    api = Client(args.server)
    try:
        if args.command != "up":
            api.token = credentials.token_for(args.server, args.token)
        return int(args.handler(args, api))
    except errors.RippleError as failure:
        print(f"Error: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `ripple get ... | head`: the reader left; that is not our error.
        sys.stderr.close()
        return 0
    except OSError as failure:  # a server verb (`event display`) that cannot have its port
        if failure.errno not in LISTEN_ERRORS or not hasattr(args, "port"):
            raise
        from ripple.cli import up

        where = f"{getattr(args, 'host', '127.0.0.1')}:{args.port}"
        print(f"Error: cannot listen on {where}: {up.listen_problem(failure)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
