"""Real Python files and edited copies of some of them: a small near-duplicate corpus."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import pytest


def stdlib_texts(limit: int) -> list[str]:
    """The first `limit` readable stdlib modules with some code in them, in path order."""
    texts = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if 2_000 < len(text) < 60_000:
            texts.append(text)
        if len(texts) == limit:
            break
    return texts


def edited(text: str, rng: random.Random, edits: int) -> str:
    """`text` with `edits` lines replaced by new ones."""
    lines = text.splitlines()
    for _ in range(edits):
        lines[rng.randrange(len(lines))] = f"value_{rng.randrange(10**6)} = {rng.random()}"
    return "\n".join(lines)


@pytest.fixture(scope="session")
def real_files() -> list[str]:
    """300 real Python files of the standard library."""
    return stdlib_texts(300)


@pytest.fixture(scope="session")
def corpus(real_files: list[str]) -> list[tuple[int, str]]:
    """(id, content): 150 real files plus 1-3 lightly and heavily edited copies of a third."""
    rng = random.Random(7)
    rows = []
    next_id = 1_000
    for i, text in enumerate(real_files[:150]):
        rows.append((next_id, text))
        next_id += 1
        if i % 3 == 0:
            for _ in range(rng.randint(1, 3)):
                rows.append((next_id, edited(text, rng, rng.choice([1, 2, 5, 40]))))
                next_id += 1
    rng.shuffle(rows)  # ids, not positions, decide
    return rows
