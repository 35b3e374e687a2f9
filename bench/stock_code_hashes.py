"""Generate the table of Langflow's stock component code hashes (hashes only, never the code).

    python bench/stock_code_hashes.py .cache/wheels > layers/engine/flowless_engine/data/stock_code.txt

A node whose `code` hashes to an entry is stock Langflow code: Flowless runs its native component
and never that code. Any other code is user code, run only when the tenant approved its SHA-256.

What Langflow hashes (measured on the lfx 1.13.0 wheel: 130 of 130 `metadata.code_hash` values of
its component index match): the component module's source bytes, SHA-256, first 12 hex digits.
The `code` field of an export is that same source text, so hashing the field the same way
recognises stock code of every release whose wheel is given:

- every `*/components/**/*.py` in the `langflow-base` (Langflow 1.0-1.4 shipped its components
  there), `lfx` (1.5+) and `lfx-*` bundle wheels given;
- the `code` fields of the starter projects inside `langflow-base` wheels;
- `lfx/_assets/stable_hash_history.json` and the component index of every `lfx` wheel (hashes of
  releases whose wheels are not given).
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path


def short_hash(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()[:12]


def wheel_hashes(wheel: Path) -> Iterator[str]:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if "/components/" in name and name.endswith(".py"):
                yield short_hash(archive.read(name))
            elif "/starter_projects/" in name and name.endswith(".json"):
                yield from _flow_hashes(json.loads(archive.read(name)))
            elif name.endswith("_assets/stable_hash_history.json"):
                for entry in json.loads(archive.read(name)).values():
                    yield from entry.get("versions", {}).values()
            elif name.endswith("_assets/component_index.json"):
                for _, components in json.loads(archive.read(name)).get("entries", []):
                    for template in components.values():
                        if code_hash := (template.get("metadata") or {}).get("code_hash"):
                            yield code_hash


def _flow_hashes(flow: dict) -> Iterator[str]:
    data = flow.get("data", flow)
    for node in data.get("nodes", []) if isinstance(data, dict) else []:
        body = (node.get("data") or {}).get("node") or {}
        code = ((body.get("template") or {}).get("code") or {}).get("value")
        if isinstance(code, str) and code:
            yield short_hash(code.encode("utf-8"))
        if isinstance(body.get("flow"), dict):
            yield from _flow_hashes(body["flow"])


def main(folder: str) -> None:
    hashes: set[str] = set()
    wheels = sorted(Path(folder).glob("*.whl"))
    for wheel in wheels:
        hashes.update(h for h in wheel_hashes(wheel) if len(h) == 12)
    print(f"# Langflow stock component code: sha256(source)[:12], from {len(wheels)} wheels:")
    for wheel in wheels:
        print(f"#   {wheel.name}")
    for value in sorted(hashes):
        print(value)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".cache/wheels")
