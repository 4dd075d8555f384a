"""Pip constraints pinning each runtime dependency of pyproject.toml to its lower bound.

    python3 .ci/lowest_versions.py > lowest.txt   # then: pip install -c lowest.txt -e .

`make test-lowest` runs the suite against them, which is what shows the bounds are true.
torch is left out: `make` installs its CPU build first, and its lowest version on PyPI is a
CUDA build of several GB. Needs Python 3.11+ (tomllib), unlike the project.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
UNPINNED = {"torch"}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$")


def lowest_pins(requirements: list[str]) -> list[str]:
    """`name==X` for each requirement with a `>=X` bound, but the UNPINNED ones."""
    pins = []
    for requirement in requirements:
        name, _, specifiers = _REQUIREMENT.match(requirement).groups()
        if name.lower() in UNPINNED:
            continue
        lower = [s.strip()[2:] for s in specifiers.split(",") if s.strip().startswith(">=")]
        if not lower:
            raise SystemExit(f"pyproject.toml: {requirement!r} has no lower bound (>=)")
        pins.append(f"{name}=={lower[0]}")
    return pins


if __name__ == "__main__":
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    sys.stdout.write("".join(f"{pin}\n" for pin in lowest_pins(dependencies)))
