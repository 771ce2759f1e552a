"""The ``tinygrad-notes`` command line. Subcommands: verify, train, graph, bench, demo
(added as their issues land)."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinygrad-notes`` with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-notes",
        description="A small, fast, readable autodiff engine whose backward rules are the "
        "equations of a set of deep-learning notes, verified.",
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-notes {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0  # pragma: no cover - subcommands arrive with later issues


if __name__ == "__main__":
    sys.exit(main())
