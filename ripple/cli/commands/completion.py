"""`ripple completion bash|zsh|tcsh`: a shell completion script, written by shtab from the
parser itself, so every command, verb and flag completes and none can be forgotten.

Registered by `ripple.cli.main`. Install with e.g.
`ripple completion bash > /etc/bash_completion.d/ripple` or
`ripple completion zsh > "${fpath[1]}/_ripple"`.
"""

from __future__ import annotations

import argparse

from ripple import errors
from ripple.cli.client import Client

SHELLS = ("bash", "zsh", "tcsh")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    completion = commands.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=run_completion)


def run_completion(args: argparse.Namespace, api: Client) -> int:
    try:
        import shtab
    except ImportError:  # a dependency; only a broken install lacks it
        raise errors.RippleError("shell completion needs the 'shtab' package") from None
    from ripple.cli import main

    # `up`'s own flags too: the script is written once, so importing `up` here is fine.
    parser = main.build_parser(with_up=True)
    print(shtab.complete(parser, shell=args.shell))
    return 0
