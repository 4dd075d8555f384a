"""Parsing JSON Lines blocks (Arrow's reader and the line-by-line path); gzip and bzip2 blocks."""

from __future__ import annotations

import bz2
import gzip
import json
import random

import pytest
from conftest import raw_row

from dataprep import json_lines
from dataprep.features import content_key
from dataprep.json_lines import CorruptFile, decompressed_blocks, parse_lines

TRICKY = [
    "def f():\n\treturn 'caf\u00e9 \u4e00'\r\n",
    "s = '\U0001f600'  # a pair of surrogate escapes in JSON",
    "s = '\\udc80\\ud800'  # the text of an escape, not an escape",
    "nul = '\x00'; quote = '\"'; backslash = '\\\\'",
    "<|endoftext|> = 1\u2028x = 2\x85",
]


def _block(rows: list[dict | bytes]) -> bytes:
    return b"".join(
        (row if isinstance(row, bytes) else json.dumps(row).encode()) + b"\n" for row in rows
    )


def _rows(texts: list[str]) -> list[dict]:
    return [raw_row("u/r", f"f{i}.py", text) for i, text in enumerate(texts)]


def test_arrow_and_line_by_line_give_the_same_rows(real_files):
    rows = _rows(real_files[:40] + TRICKY)
    block = _block(rows)
    assert json_lines._parse_clean_block(block, len(rows)) is not None  # the fast path runs
    fast = parse_lines(block).to_pylist()
    slow = [json_lines._parse_line(line) for line in block.splitlines()]
    columns = json_lines.LINES_SCHEMA.names
    assert fast == [{name: row.get(name) for name in columns} for row in slow]
    assert [r["content"] for r in fast] == [r["content"] for r in rows]
    assert [r["hash"] for r in fast] == [content_key(r["content"]) for r in rows]
    assert all(r["reason"] is None and r["raw"] is None for r in fast)


@pytest.mark.parametrize("where", [0, 2])
def test_null_lines_are_malformed_not_records_of_nulls(real_files, where):
    # Arrow's reader crashed the process on a block starting with `null`, and read one later
    # in a block as a record of nulls.
    rows: list[dict | bytes] = list(_rows(real_files[:3]))
    rows.insert(where, b"null")
    table = parse_lines(_block(rows)).to_pylist()
    assert (table[where]["reason"], table[where]["raw"]) == ("malformed_json", b"null")
    assert [r["reason"] for r in table].count(None) == 3


def test_a_byte_order_mark_and_bare_carriage_returns_are_whitespace(real_files):
    good = _rows(real_files[:2])
    record = b'{"repo_name": "u/r",\r"path": "cr.py",\r"content": "x = 1"}'
    block = b"\xef\xbb\xbf" + _block([*good, record, b"not json"])  # the bad line: line by line
    table = parse_lines(block).to_pylist()
    assert [r["path"] for r in table] == ["f0.py", "f1.py", "cr.py", None]
    assert [r["reason"] for r in table] == [None, None, None, "malformed_json"]


def test_one_bad_line_keeps_its_neighbours(real_files):
    good = _rows(real_files[:5])
    bad = b'{"repo_name": "u/r", "path": "cut.py", "conte'
    table = parse_lines(_block([*good[:2], bad, *good[2:]])).to_pylist()
    assert [r["path"] for r in table] == ["f0.py", "f1.py", None, "f2.py", "f3.py", "f4.py"]
    assert table[2]["reason"] == "malformed_json" and table[2]["raw"] == bad
    assert [r["content"] for r in table if r["reason"] is None] == [r["content"] for r in good]


@pytest.mark.parametrize(
    ("line", "reason", "path"),
    [
        (b'{"path": "a.py"} {"path": "b.py"}', "malformed_json", None),  # two records, one line
        (b"[1, 2, 3]", "malformed_json", None),
        (b"[" * 100_000, "malformed_json", None),  # nested deeper than Python's recursion
        (b'{"path": "caf\xe9.py", "content": "x"}', "invalid_utf8", "caf\ufffd.py"),
        (json.dumps({"path": "a\udc80.py", "content": "x"}).encode(), "invalid_utf8", "a\ufffd.py"),
        (b'{"path": "n.py", "copies": 3, "size": 1.5, "license": true}', None, "n.py"),
    ],
)
def test_each_bad_line_gets_its_reason(line, reason, path):
    (row,) = parse_lines(line + b"\n\n  \n").to_pylist()  # blank lines hold no record
    assert (row["reason"], row["path"]) == (reason, path)
    assert row["raw"] == (line if reason else None)
    if path == "n.py":  # numbers and booleans where text is expected are read as their text
        assert (row["copies"], row["size"], row["license"]) == ("3", "1.5", "true")


def test_decompressed_blocks_end_at_line_breaks_and_lose_nothing():
    rng = random.Random(0)
    lines = [("x" * rng.randrange(1, 3000)).encode() for _ in range(2000)]
    text = b"\n".join(lines) + b"\n"
    data = gzip.compress(text[:1_000_000]) + gzip.compress(text[1_000_000:])  # two members
    blocks = list(decompressed_blocks(data, block_bytes=100_000))
    assert len(blocks) > 10 and all(block.endswith(b"\n") for block in blocks)
    assert b"".join(blocks) == text


def test_lines_longer_than_a_block_stay_whole():
    text = b"".join(b"%d%s\n" % (i, b"y" * (i * 700 % 5000)) for i in range(300))
    blocks = list(decompressed_blocks(gzip.compress(text), block_bytes=1000))
    assert all(block.endswith(b"\n") for block in blocks)
    assert b"".join(blocks) == text
    assert max(map(len, blocks)) > 1000  # a line of up to 5,000 bytes is not cut


# bzip2 compresses this text so well that it needs more lines to be cut inside a block.
@pytest.mark.parametrize(
    ("compress", "n_lines"), [(gzip.compress, 50_000), (bz2.compress, 200_000)]
)
def test_cut_files_give_what_they_can_then_say_so(compress, n_lines):
    text = b"".join(b'{"path": "%d.py"}\n' % i for i in range(n_lines))
    data = compress(text)
    read = []
    with pytest.raises(CorruptFile):
        for block in decompressed_blocks(data[: len(data) // 2], block_bytes=10_000):
            read.append(block)
    got = b"".join(read)
    assert len(got) > len(text) // 4 and text.startswith(got)
    with pytest.raises(CorruptFile):
        list(decompressed_blocks(data[:10] + b"not compressed data"))
    assert list(decompressed_blocks(b"")) == []


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_empty_members_and_padding_are_whole_files(compress):
    first, second = b'{"path": "a.py"}\n', b'{"path": "b.py"}\n{"path": "c.py"}\n'
    data = compress(first) + compress(b"") + compress(second) + b"\0" * 512
    assert b"".join(decompressed_blocks(data)) == first + second
    assert list(decompressed_blocks(compress(b""))) == []


def test_uncompressed_text_is_read_as_it_is():
    # A plain file named .json.gz: neither magic number, so its lines are read, not lost.
    text = b'{"path": "a.py"}\n{"path": "b.py"}\n'
    assert b"".join(decompressed_blocks(text, block_bytes=8)) == text
