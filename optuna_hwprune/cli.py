"""The ``hwprune`` command: wires the package's components into sub-commands.

Each sub-command lives in its own module under :mod:`optuna_hwprune.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable that takes the
parsed arguments and returns an exit status. Heavy imports (torch, optuna) happen inside those
callables so that ``hwprune --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from optuna_hwprune import __version__

# Sub-command modules, in the order ``hwprune --help`` lists them.
_COMMAND_MODULES = (
    "optuna_hwprune.commands.bench",
    "optuna_hwprune.commands.seed_search",
    "optuna_hwprune.commands.prune",
)


class UsageError(ValueError):
    """Invalid command-line input; the message names the value and the fix."""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="hwprune",
        description="Hardware-aware model compression as Optuna studies.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v: INFO, -vv: DEBUG)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hwprune`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")

    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UsageError, ValueError, FileNotFoundError) as error:
        print(f"hwprune {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
