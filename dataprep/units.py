"""Human-readable sizes on the command line: 64MB, 1.5GB, 2MiB."""

from __future__ import annotations

import re

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*")


def parse_size(text: str) -> int:
    """Bytes in a size such as "64MB" (powers of 1000), "2MiB" (powers of 1024) or "1234"."""
    match = _SIZE.fullmatch(text)
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (examples: 500kB, 64MB, 1.5GB, 2MiB, 1048576)")
    return int(float(match.group(1)) * _UNITS[unit])
