"""``tinygrad-notes verify``: run every check of the notes' equations and print the table.

Exit code 0 when every check passes (an ERRATUM row passes: the corrected form holds),
1 when any check fails, 2 for an unknown label.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``verify`` subcommand to ``subparsers`` (from ``add_subparsers``)."""
    parser = subparsers.add_parser(
        "verify",
        help="check every equation of the notes against the tape and central differences",
        description="Run every registered check: the closed form of each equation of the notes vs the tape's "
        "gradients vs central differences (or exact sums, integrals and Monte Carlo). Prints a table; "
        "exit code 1 if any check fails.",
    )
    parser.add_argument("--only", metavar="LABEL", action="append",
                        help="run only this equation, e.g. BP1, 'eq. 3.23' or 3.23 (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="also write the rows to PATH as a JSON list")
    parser.add_argument("-v", "--verbose", action="store_true", help="print what each check compared in full")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    """Run the checks that ``args`` selects, print the table and summary; return the exit code."""
    from .equations import registry, verify

    start = time.perf_counter()
    try:
        labels = [registry.normalize(label) for label in (args.only or [])]
    except KeyError as e:
        print(f"tinygrad-notes verify: {e.args[0]}", file=sys.stderr)
        return 2
    rows = verify.run_checks(labels or None)
    seconds = time.perf_counter() - start
    width = shutil.get_terminal_size((120, 24)).columns
    print(verify.format_table(rows, width=max(width, 100), verbose=getattr(args, "verbose", False)))
    print(verify.summary(rows, seconds))
    if getattr(args, "json", None):
        verify.write_json(rows, args.json)
    return 0 if all(r.passed for r in rows) else 1


def main(argv=None) -> int:
    """Run ``verify`` alone (``python -m tinygrad_notes.cli_verify``), for testing."""
    parser = argparse.ArgumentParser(prog="tinygrad-notes")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["verify", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
