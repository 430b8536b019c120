"""Print the schema as SDL, or check a committed schema.graphql against the code."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from resolvers.schema import build_schema


def sdl() -> str:
    return build_schema().as_str().rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", metavar="FILE", help="fail when FILE differs from the code")
    args = parser.parse_args(argv)
    current = sdl()
    if args.check is None:
        sys.stdout.write(current)
        return 0
    committed = Path(args.check).read_text() if Path(args.check).exists() else ""
    if committed == current:
        return 0
    sys.stderr.writelines(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            current.splitlines(keepends=True),
            fromfile=args.check,
            tofile="schema from code",
        )
    )
    sys.stderr.write("\nschema.graphql is out of date: run `make schema` and commit it\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
