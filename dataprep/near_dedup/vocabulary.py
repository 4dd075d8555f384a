"""A batch's files as runs of numbered shingles, in one compiled pass over their UTF-8 bytes.

Each distinct shingle of the batch gets a number once (open addressing on a 64-bit hash,
confirmed byte for byte), so it is hashed with SHA-1 and permuted once however many files
hold it; each file keeps its distinct shingles in order of first appearance. Tokens are the
maximal runs of [A-Za-z_0-9] bytes, as `shingles.tokens` splits them (the tests hold the two
equal); an n-gram shingle is numbered by the numbers of its n words.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from dataprep.near_dedup.shingles import WORD_BYTES

_IS_WORD = np.zeros(256, dtype=np.bool_)
_IS_WORD[sorted(WORD_BYTES)] = True


class BatchShingles(NamedTuple):
    """The distinct shingles of a batch's files, numbered, and their bytes."""

    n_tokens: np.ndarray  # int32 per file: tokens counted with repeats (0 for null content)
    eligible: np.ndarray  # bool per file: at least min_tokens (and one) tokens
    starts: np.ndarray  # int64, eligible files + 1: file k's numbers are ids[starts[k]:starts[k+1]]
    ids: np.ndarray  # int32: shingle numbers, each file's distinct ones
    text: np.ndarray  # uint8: the shingles' bytes (words joined by one space)
    text_offsets: np.ndarray  # int64, shingles + 1: shingle s is text[offsets[s]:offsets[s+1]]


@njit(cache=True)
def _hash(key: np.ndarray, start: int, stop: int) -> int:
    # FNV-1a, then MurmurHash3's 64-bit finalizer: FNV's low bits (the slot) mix poorly alone.
    h = np.uint64(0xCBF29CE484222325)
    for i in range(start, stop):
        h = (h ^ np.uint64(key[i])) * np.uint64(0x100000001B3)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    return np.int64(h)


@njit(cache=True)
def _intern(key, start, stop, table, arena, offsets, count):
    # The number of key[start:stop], given number `count` if new; (number, count after).
    # table holds (hash, number) pairs, number -1 when free; the caller leaves room.
    h = _hash(key, start, stop)
    mask = len(table) // 2 - 1
    slot = h & mask
    length = stop - start
    while True:
        number = table[2 * slot + 1]
        if number < 0:
            first = offsets[count]
            arena[first : first + length] = key[start:stop]
            offsets[count + 1] = first + length
            table[2 * slot] = h
            table[2 * slot + 1] = count
            return count, count + 1
        if table[2 * slot] == h:
            first = offsets[number]
            if offsets[number + 1] - first == length:
                same = True
                for k in range(length):
                    if arena[first + k] != key[start + k]:
                        same = False
                        break
                if same:
                    return number, count
        slot = (slot + 1) & mask


@njit(cache=True)
def _grown(array, size):
    # `array`, or a copy at least `size` long (doubling, so growth stays linear overall).
    if size <= len(array):
        return array
    out = np.empty(max(size, 2 * len(array)), dtype=array.dtype)
    out[: len(array)] = array
    return out


@njit(cache=True)
def _with_room(table, entries):
    # `table`, or a rehashed larger one that stays at most half full with `entries` entries.
    capacity = len(table) // 2
    if 2 * entries <= capacity:
        return table
    while 2 * entries > capacity:
        capacity *= 2
    out = np.full(2 * capacity, -1, dtype=np.int64)
    mask = capacity - 1
    for slot in range(len(table) // 2):
        if table[2 * slot + 1] >= 0:
            new = table[2 * slot] & mask
            while out[2 * new + 1] >= 0:
                new = (new + 1) & mask
            out[2 * new] = table[2 * slot]
            out[2 * new + 1] = table[2 * slot + 1]
    return out


@njit(cache=True)
def _add_distinct(number, file, last_file, ids, n_ids):
    # Appends shingle `number` to ids unless this file already holds it; the new n_ids.
    if last_file[number] != file:
        last_file[number] = file
        ids[n_ids] = number
        n_ids += 1
    return n_ids


@njit(cache=True)
def _number_file(data, start, stop, file, ngram, words, shingles, sequence, last_file, ids, n_ids):
    # Numbers the tokens of data[start:stop], then (ngram > 1) its n-grams; appends the
    # file's distinct shingle numbers to ids. Returns (tokens, n_ids, n_words, n_shingles).
    word_table, word_arena, word_offsets, n_words = words
    shingle_table, shingle_arena, shingle_offsets, n_shingles = shingles
    tokens = 0
    i = start
    while i < stop:
        if not _IS_WORD[data[i]]:
            i += 1
            continue
        j = i + 1
        while j < stop and _IS_WORD[data[j]]:
            j += 1
        number, n_words = _intern(data, i, j, word_table, word_arena, word_offsets, n_words)
        if ngram == 1:
            n_ids = _add_distinct(number, file, last_file, ids, n_ids)
        else:
            sequence[tokens] = number
        tokens += 1
        i = j
    if ngram > 1 and tokens:
        # A file with fewer than ngram words has one shingle: all of them.
        n = min(ngram, tokens)
        key = sequence[:tokens].view(np.uint8)
        for first in range(tokens - n + 1):
            number, n_shingles = _intern(
                key,
                4 * first,
                4 * (first + n),
                shingle_table,
                shingle_arena,
                shingle_offsets,
                n_shingles,
            )
            n_ids = _add_distinct(number, file, last_file, ids, n_ids)
    return tokens, n_ids, n_words, n_shingles


@njit(cache=True)
def _joined(shingle_arena, shingle_offsets, n_shingles, word_arena, word_offsets):
    # The bytes of each n-gram shingle (stored as its words' int32 numbers), words joined by
    # one space.
    size = 0
    for s in range(n_shingles):
        for w in shingle_arena[shingle_offsets[s] : shingle_offsets[s + 1]].view(np.int32):
            size += word_offsets[w + 1] - word_offsets[w] + 1
    text = np.empty(size, dtype=np.uint8)
    offsets = np.zeros(n_shingles + 1, dtype=np.int64)
    at = 0
    for s in range(n_shingles):
        words = shingle_arena[shingle_offsets[s] : shingle_offsets[s + 1]].view(np.int32)
        for k, w in enumerate(words):
            if k:
                text[at] = 0x20
                at += 1
            length = word_offsets[w + 1] - word_offsets[w]
            text[at : at + length] = word_arena[word_offsets[w] : word_offsets[w + 1]]
            at += length
        offsets[s + 1] = at
    return text[:at], offsets


@njit(cache=True)
def _number_batch(data, offsets, valid, ngram, min_tokens):
    n_files = len(offsets) - 1
    n_tokens = np.zeros(n_files, dtype=np.int32)
    eligible = np.zeros(n_files, dtype=np.bool_)
    starts = np.zeros(n_files + 1, dtype=np.int64)
    words = (
        np.full(1 << 15, -1, np.int64),
        np.empty(1 << 16, np.uint8),
        np.zeros(1 << 12, np.int64),
        0,
    )
    shingles = (np.full(2, -1, np.int64), np.empty(0, np.uint8), np.zeros(1, np.int64), 0)
    sequence = np.empty(0, dtype=np.int32)
    last_file = np.empty(0, dtype=np.int64)
    ids = np.empty(1 << 16, dtype=np.int32)
    n_ids = 0
    n_eligible = 0
    for file in range(n_files):
        if not valid[file]:
            continue
        start, stop = offsets[file], offsets[file + 1]
        # Room for the most this file can add: a token takes a byte and a separator.
        most = (stop - start + 1) // 2
        word_table, word_arena, word_offsets, n_words = words
        words = (
            _with_room(word_table, n_words + most),
            _grown(word_arena, word_offsets[n_words] + stop - start),
            _grown(word_offsets, n_words + most + 1),
            n_words,
        )
        if ngram > 1:
            shingle_table, shingle_arena, shingle_offsets, n_shingles = shingles
            shingles = (
                _with_room(shingle_table, n_shingles + most),
                _grown(shingle_arena, shingle_offsets[n_shingles] + 4 * ngram * most),
                _grown(shingle_offsets, n_shingles + most + 1),
                n_shingles,
            )
            sequence = _grown(sequence, most)
        numbered = max(words[3], shingles[3]) + most
        if numbered > len(last_file):
            old = len(last_file)
            last_file = _grown(last_file, numbered)
            last_file[old:] = -1
        ids = _grown(ids, n_ids + most)
        tokens, new_ids, n_words, n_shingles = _number_file(
            data, start, stop, file, ngram, words, shingles, sequence, last_file, ids, n_ids
        )
        words = (words[0], words[1], words[2], n_words)
        shingles = (shingles[0], shingles[1], shingles[2], n_shingles)
        n_tokens[file] = tokens
        # A file without tokens resembles nothing, whatever min_tokens says (two empty sets
        # would count as identical).
        if tokens >= max(min_tokens, 1):
            eligible[file] = True
            n_ids = new_ids
            n_eligible += 1
            starts[n_eligible] = n_ids
    _, word_arena, word_offsets, n_words = words
    if ngram == 1:
        text, text_offsets = word_arena, word_offsets[: n_words + 1]
    else:
        _, shingle_arena, shingle_offsets, n_shingles = shingles
        text, text_offsets = _joined(
            shingle_arena, shingle_offsets, n_shingles, word_arena, word_offsets
        )
    return n_tokens, eligible, starts[: n_eligible + 1], ids[:n_ids], text, text_offsets


def number_shingles(
    data: np.ndarray, offsets: np.ndarray, valid: np.ndarray, ngram: int, min_tokens: int
) -> BatchShingles:
    """Number the distinct shingles of files `data[offsets[i]:offsets[i + 1]]` (UTF-8 bytes).

    Files below `min_tokens` tokens (or without any) and invalid (null) ones are counted but
    hold no shingles.
    """
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, not {ngram}")
    return BatchShingles(*_number_batch(data, offsets, valid, ngram, min_tokens))
