"""Refresh GraphiQL's files in gql_api/static/graphiql/ from the npm registry.

    python scripts/vendor_graphiql.py

GraphiQL is served by chatgql itself, so that it works with no network. The packages are
fetched with `npm pack` at the versions pinned below (GraphiQL 3.8 is the last with a build
for plain <script> tags), checked against the registry's integrity, and each file is stored
gzipped with its SHA-384 (the page's `integrity` attribute) in assets.json.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "gql_api" / "static" / "graphiql"

# (package, version, [(file in the package, name served)]) in the order the page loads them.
PACKAGES = [
    ("react", "18.2.0", [("umd/react.production.min.js", "react-18.2.0.min.js")]),
    ("react-dom", "18.2.0", [("umd/react-dom.production.min.js", "react-dom-18.2.0.min.js")]),
    (
        "graphiql",
        "3.8.3",
        [
            ("graphiql.min.js", "graphiql-3.8.3.min.js"),
            ("graphiql.min.css", "graphiql-3.8.3.min.css"),
        ],
    ),
    (
        "@graphiql/plugin-explorer",
        "1.0.2",
        [
            ("dist/index.umd.js", "graphiql-plugin-explorer-1.0.2.min.js"),
            ("dist/style.css", "graphiql-plugin-explorer-1.0.2.css"),
        ],
    ),
]


def sri(data: bytes, algorithm: str) -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    for old in TARGET.glob("*.gz"):
        old.unlink()
    assets = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, version, files in PACKAGES:
            spec = f"{package}@{version}"
            out = subprocess.run(
                ["npm", "pack", spec, "--json", "--pack-destination", tmp],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            packed = json.loads(out)[0]
            tarball = Path(tmp) / packed["filename"]
            if sri(tarball.read_bytes(), "sha512") != packed["integrity"]:
                raise SystemExit(f"{spec}: the tarball does not match the registry's integrity")
            with tarfile.open(tarball) as tar:
                for inner, name in files:
                    member = tar.extractfile(f"package/{inner}")
                    assert member is not None, f"{spec} has no {inner}"
                    data = member.read()
                    (TARGET / f"{name}.gz").write_bytes(gzip.compress(data, 9, mtime=0))
                    assets.append(
                        {
                            "name": name,
                            "package": package,
                            "version": version,
                            "file": inner,
                            "tarball_integrity": packed["integrity"],
                            "integrity": sri(data, "sha384"),
                            "bytes": len(data),
                        }
                    )
    (TARGET / "assets.json").write_text(json.dumps(assets, indent=2) + "\n")
    for asset in assets:
        print(f"{asset['name']}: {asset['bytes']} bytes, {asset['integrity']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
