"""Human-readable sizes: on the command line (64MB, 1.5GB, 2MiB) and in Spark settings."""

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


# Spark's byte strings (spark.sql.autoBroadcastJoinThreshold and the like) count in 1024s.
_SPARK_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
_SPARK_SIZE = re.compile(r"\s*(-?[0-9]+)\s*([kmgtp]?)b?\s*", re.IGNORECASE)


def spark_bytes(text: str) -> int:
    """Bytes in a Spark byte-size setting such as "10485760b", "10m" or "10MB" (both 10 MiB)."""
    match = _SPARK_SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"not a Spark byte size: {text!r}")
    return int(match.group(1)) * _SPARK_UNITS[match.group(2).lower()]
