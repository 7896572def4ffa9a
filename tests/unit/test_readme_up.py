"""The README documents what `ripple up` and the CLI take: every flag of `ripple up`, how
to point the CLI at another server, and a troubleshooting section for `ripple up`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ripple.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def up_flags() -> list[str]:
    parser = main.build_parser(with_up=True)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    up = commands.choices["up"]
    return [max(a.option_strings, key=len) for a in up._actions
            if a.option_strings and a.help != argparse.SUPPRESS and "--help" not in a.option_strings
            and "--server" not in a.option_strings]


def test_every_flag_of_ripple_up_is_in_the_readme() -> None:
    missing = [flag for flag in up_flags() if f"`{flag}" not in README]
    assert not missing


def test_the_readme_says_how_to_point_the_cli_at_another_server() -> None:
    assert "`ripple --server http://" in README and "export RIPPLE_SERVER=" in README
    assert "\n### Troubleshooting: ripple up\n" in README
    assert "make quickstart PORT=" in README
