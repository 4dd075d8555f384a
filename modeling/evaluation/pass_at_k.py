"""The unbiased pass@k estimator of the Codex paper: 1 - C(n - c, k) / C(n, k)."""

from __future__ import annotations

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chance that at least one of k samples drawn from n (c of them correct) is correct."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    # The ratio of binomials as a product, which neither overflows nor loses precision.
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k_table(correct: dict[str, tuple[int, int]], ks: tuple[int, ...]) -> dict[str, float]:
    """Mean pass@k over tasks, {task: (n, c)}, for each k that every task has samples for."""
    smallest = min(n for n, _ in correct.values())
    return {
        f"pass@{k}": float(np.mean([pass_at_k(n, c, k) for n, c in correct.values()]))
        for k in ks
        if k <= smallest
    }
