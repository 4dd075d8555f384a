"""Deterministic per-row draws: a seeded hash instead of an unseeded random number."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_MANTISSA = (1 << 53) - 1


def unit_interval(key: Column, salt: str, seed: int) -> Column:
    """A number in [0, 1) that depends only on (key, salt, seed): uniform over keys."""
    bits = F.xxhash64(F.lit(salt), F.lit(seed), key).bitwiseAND(F.lit(_MANTISSA))
    return bits.cast("double") / float(1 << 53)
