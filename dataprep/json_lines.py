"""JSON Lines of the raw dump into Arrow tables, in plain Python: the read stage's per-file work.

A block of lines is parsed by Arrow's C++ JSON reader when every line in it is a clean record
(the common case: it yields Arrow columns directly, where building them from json.loads
objects costs twice the parse); a block with any bad line is parsed line by line with the
standard library, so each bad line gets its own reason and the good lines around it are
kept. Both paths give the same rows for good lines.
"""

from __future__ import annotations

import bz2
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.json as pa_json
from isal import isal_zlib

from dataprep.features import content_key, content_key_array

RAW_COLUMNS = ("repo_name", "path", "copies", "size", "content", "license")

MALFORMED_JSON = "malformed_json"
INVALID_UTF8 = "invalid_utf8"

# What a block of lines becomes: the raw fields as text, the line itself where it cannot be
# trusted, the reason it cannot, and the exact-dedup key of the content.
LINES_SCHEMA = pa.schema(
    [(name, pa.string()) for name in RAW_COLUMNS]
    + [("raw", pa.binary()), ("reason", pa.string()), ("hash", pa.string())]
)
_FIELDS_SCHEMA = pa.schema([(name, pa.string()) for name in RAW_COLUMNS])
_ARROW_PARSE = pa_json.ParseOptions(
    explicit_schema=_FIELDS_SCHEMA, unexpected_field_behavior="ignore"
)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Decompressed text is handed on in blocks of about this size, cut at a line break, so memory
# stays bounded whatever the shard's size.
BLOCK_BYTES = 1 << 24


class CorruptFile(Exception):
    """A compressed file ends inside a member (stream) or holds damaged data."""


GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
UTF8_BOM = b"\xef\xbb\xbf"


def decompressed_blocks(data: bytes, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The text of a gzip or bzip2 file (every member), in blocks that end at a line break.

    The codec is told by the file's first bytes: data with neither magic number is plain text,
    read as it is. Everything readable is yielded first, the cut-off last line included; then
    CorruptFile is raised if the file is cut short or damaged. An empty file is a complete,
    empty one, and so is an empty member; zero bytes after the last member are padding, as
    gzip and bzip2 take them.
    """
    # Decompressed pieces wait in a list and are joined once per block: each byte is copied
    # once on its way to a block (a growing bytearray copied it three times).
    pending: list[bytes] = []
    size = 0
    damage = None
    try:
        for out in _decompressed_pieces(data, block_bytes):
            size += len(out)
            cut = out.rfind(b"\n") + 1
            if size < block_bytes or not cut:
                pending.append(out)
                continue
            yield b"".join([*pending, memoryview(out)[:cut]])
            pending, size = [out[cut:]], len(out) - cut
    except CorruptFile as error:
        damage = error
    if size:
        yield b"".join(pending)
    if damage:
        raise damage


def _decompressed_pieces(data: bytes, piece_bytes: int) -> Iterator[bytes]:
    """The file's text in pieces of at most `piece_bytes` (bounded memory per call)."""
    if data.startswith(GZIP_MAGIC):
        yield from _members(
            data,
            lambda: isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS),
            piece_bytes,
            isal_zlib.error,
        )
    elif data.startswith(BZIP2_MAGIC):
        yield from _members(data, bz2.BZ2Decompressor, piece_bytes, OSError)
    else:
        for start in range(0, len(data), piece_bytes):
            yield data[start : start + piece_bytes]


def _members(
    data: bytes, decompressor: Callable[[], Any], piece_bytes: int, error: type[Exception]
) -> Iterator[bytes]:
    """The text of each member of a gzip file (or stream of a bzip2 file), in order."""
    while data:
        member = decompressor()
        compressed = data
        try:
            while not member.eof:
                out = member.decompress(compressed, piece_bytes)
                # zlib keeps the input it did not take; bz2 keeps it inside.
                compressed = getattr(member, "unconsumed_tail", b"")
                if out:
                    yield out
                elif not compressed and not member.eof:
                    raise CorruptFile("compressed data cut short")
        except error as damaged:
            raise CorruptFile(f"damaged compressed data: {damaged}") from None
        data = member.unused_data
        if data[:1] == b"\0" and not data.strip(b"\0"):
            return


def parse_lines(block: bytes) -> pa.Table:
    """Rows (LINES_SCHEMA) of the non-blank lines of a block of JSON Lines, in order."""
    # Only \n ends a line: a bare \r is whitespace inside a record, as JSON has it.
    block = block.removeprefix(UTF8_BOM)
    lines = [line for line in block.split(b"\n") if line.strip()]
    # Arrow's reader takes a `null` line for a record of nulls (or crashes on it, when it comes
    # first): only blocks of objects go its way.
    objects = all(line.lstrip()[:1] == b"{" for line in lines)
    fields = _parse_clean_block(block, len(lines)) if objects else None
    if fields is None:
        return pa.Table.from_pylist([_parse_line(line) for line in lines], schema=LINES_SCHEMA)
    n = fields.num_rows
    hashes = content_key_array(fields.column("content").combine_chunks())
    return (
        fields.append_column("raw", pa.nulls(n, pa.binary()))
        .append_column("reason", pa.nulls(n, pa.string()))
        .append_column("hash", hashes)
    )


def _parse_clean_block(block: bytes, n_lines: int) -> pa.Table | None:
    """The raw fields of every line by Arrow's reader; None if any line needs a closer look."""
    if not block.isascii():  # ASCII is valid UTF-8, and checking it costs far less
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        # Arrow refuses lone surrogate escapes, non-object lines, numbers where it expects
        # text and repeated keys, so such lines fall to the line-by-line path.
        table = pa_json.read_json(
            io.BytesIO(block),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=max(len(block), 1)),
            parse_options=_ARROW_PARSE,
        )
    except pa.ArrowInvalid:
        return None
    # Arrow also accepts two records on one line; one record per line is the format.
    return table if table.num_rows == n_lines else None


def _parse_line(line: bytes) -> dict:
    """One line's row, with the first reason (invalid_utf8, malformed_json) that applies."""
    reason = None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text, reason = line.decode("utf-8", "replace"), INVALID_UTF8
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python goes
        record = None
    if not isinstance(record, dict):
        return {"raw": line, "reason": reason or MALFORMED_JSON}
    row = {name: _as_text(record.get(name)) for name in RAW_COLUMNS}
    for name, value in row.items():
        # A lone surrogate escape (\udc80) is how json.dumps writes text decoded from invalid
        # UTF-8 with errors="surrogateescape": the bytes were not text.
        if value is not None and _LONE_SURROGATE.search(value):
            row[name], reason = _LONE_SURROGATE.sub("\ufffd", value), INVALID_UTF8
    if reason:
        row |= {"raw": line, "reason": reason}
    if row["content"] is not None:
        row["hash"] = content_key(row["content"])
    return row


def _as_text(value: object) -> str | None:
    # Numbers, booleans and nested values where text is expected are read as their JSON text,
    # as Spark's from_json does with a string schema.
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
