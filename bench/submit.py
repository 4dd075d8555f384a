"""Running a project script through this environment's spark-submit, for the benchmarks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spark_submit(
    script: str, *args: object, cores: int = 2, driver_memory: str = "4g", quiet: bool = False
) -> str:
    """Run `ROOT/script args` with spark-submit in local[cores] mode; return its stdout."""
    command = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master", f"local[{cores}]",
        "--driver-memory", driver_memory,
        str(ROOT / script),
        *map(str, args),
    ]  # fmt: skip
    # Output is shown as it comes unless the caller wants it (quiet) for parsing.
    done = subprocess.run(
        command, check=True, cwd=ROOT, stdout=subprocess.PIPE if quiet else None, text=True
    )
    return done.stdout or ""
