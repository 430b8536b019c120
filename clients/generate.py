"""Generate the typed clients from schema.graphql and clients/operations, or check them.

    python clients/generate.py --ariadne PATH          # write (make clients)
    python clients/generate.py --ariadne PATH --check  # compare, tsc --strict (make clients-check)

Python: ariadne-codegen (pinned in clients/python/codegen-requirements.txt, in a venv of its own:
it pins a graphql-core and a ruff older than the project's) writes clients/python/chatgql_client.
TypeScript: GraphQL Code Generator (pinned in clients/typescript/package-lock.json) writes
clients/typescript/src/generated/graphql.ts, and `tsc --strict` checks the package.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_CONFIG = ROOT / "clients/python/ariadne-codegen.toml"
PYTHON_PACKAGE = ROOT / "clients/python/chatgql_client"
TYPESCRIPT = ROOT / "clients/typescript"
TYPESCRIPT_OUT = TYPESCRIPT / "src/generated/graphql.ts"


def run(command: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(command)}")


def generate_python(ariadne: str, out_dir: Path) -> Path:
    """Run ariadne-codegen with the committed config, writing the package under out_dir."""
    config = PYTHON_CONFIG.read_text()
    target = 'target_package_path = "clients/python"'
    if target not in config:
        raise SystemExit(f"{PYTHON_CONFIG.name} must contain {target}")
    temp_config = out_dir / "ariadne-codegen.toml"
    temp_config.write_text(config.replace(target, f'target_package_path = "{out_dir}"'))
    run([ariadne, "--config", str(temp_config)])
    return out_dir / PYTHON_PACKAGE.name


def ensure_node_modules() -> None:
    if not (TYPESCRIPT / "node_modules/.bin/graphql-codegen").exists():
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TYPESCRIPT)


def generate_typescript(out_file: Path) -> None:
    ensure_node_modules()
    run(
        [str(TYPESCRIPT / "node_modules/.bin/graphql-codegen"), "--config", "codegen.ts"],
        cwd=TYPESCRIPT,
        env={"CHATGQL_CODEGEN_OUT": str(out_file)},
    )


def typecheck_typescript() -> None:
    run(
        [str(TYPESCRIPT / "node_modules/.bin/tsc"), "--strict", "--noEmit", "-p", "."],
        cwd=TYPESCRIPT,
    )


def tree_differences(expected: Path, actual: Path) -> list[str]:
    """Files that differ between two generated trees (names relative to `actual`)."""
    ignore = ["__pycache__"]
    problems: list[str] = []
    comparison = filecmp.dircmp(expected, actual, ignore=ignore)
    stack = [(comparison, Path())]
    while stack:
        cmp, rel = stack.pop()
        problems += [f"not committed: {rel / name}" for name in cmp.left_only]
        problems += [f"no longer generated: {rel / name}" for name in cmp.right_only]
        for name in cmp.diff_files:
            diff = difflib.unified_diff(
                (actual / rel / name).read_text().splitlines(),
                (expected / rel / name).read_text().splitlines(),
                f"committed/{rel / name}",
                f"generated/{rel / name}",
                lineterm="",
                n=1,
            )
            problems.append("\n".join(list(diff)[:40]))
        stack += [(sub, rel / name) for name, sub in cmp.subdirs.items()]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ariadne", required=True, help="the pinned ariadne-codegen executable")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chatgql-clients-") as temp:
        temp_dir = Path(temp)
        python_out = generate_python(args.ariadne, temp_dir)
        typescript_out = temp_dir / "graphql.ts"
        generate_typescript(typescript_out)
        if not args.check:
            shutil.rmtree(PYTHON_PACKAGE, ignore_errors=True)
            shutil.copytree(
                python_out, PYTHON_PACKAGE, ignore=shutil.ignore_patterns("__pycache__")
            )
            TYPESCRIPT_OUT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(typescript_out, TYPESCRIPT_OUT)
            typecheck_typescript()
            print("clients regenerated")
            return 0
        problems = tree_differences(python_out, PYTHON_PACKAGE)
        if not TYPESCRIPT_OUT.exists():
            problems.append(f"missing: {TYPESCRIPT_OUT.relative_to(ROOT)}")
        elif typescript_out.read_text() != TYPESCRIPT_OUT.read_text():
            problems.append(f"differs: {TYPESCRIPT_OUT.relative_to(ROOT)}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print("the generated clients are out of date: run `make clients`", file=sys.stderr)
        return 1
    typecheck_typescript()
    print("clients are up to date; tsc --strict passes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
