"""The ``tinygrad-notes`` command line: ``train`` (and verify, graph, bench, demo as their
issues land). Each subcommand lives in its own ``cli_*.py`` module with ``add_parser``
and ``run``."""

from __future__ import annotations

import argparse
import sys

from . import __version__, cli_bench, cli_demo, cli_graph, cli_train, cli_verify

COMMANDS = [cli_verify, cli_train, cli_graph, cli_bench, cli_demo]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinygrad-notes`` with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-notes",
        description="A small, fast, readable autodiff engine whose backward rules are the "
        "equations of a set of deep-learning notes, verified.",
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-notes {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"tinygrad-notes {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
