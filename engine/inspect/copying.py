"""Copying check: does a generation write, or recite? Its longest stretch found in the training text and the
share of its 8-grams found there, looked up in a suffix array of the training text built once."""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass

import numpy as np

NGRAM = 8


@dataclass
class Copying:
    longest: int  # length of the longest substring of the text that also occurs in the training text
    longest_text: str
    share: float | None  # share of the text's 8-grams that occur in the training text (None: shorter than 8)

    def to_json(self) -> dict:
        return {"longest": self.longest, "longest_text": self.longest_text,
                "share": None if self.share is None else round(self.share, 4)}


def suffix_array(text: str) -> np.ndarray:
    """Start positions of the suffixes of ``text`` in code-point order (as Python orders str), by prefix doubling:
    each round sorts by (rank of the first k characters, rank of the next k), so log2(longest repeat) rounds."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    n = codes.size
    rank = np.unique(codes, return_inverse=True)[1].astype(np.int64)
    sa, k = np.argsort(rank, kind="stable"), 1
    while n > 1:
        second = np.full(n, -1, dtype=np.int64)
        second[:n - k] = rank[k:]
        key = rank * (n + 1) + second + 1
        sa = np.argsort(key, kind="stable")
        ordered = key[sa]
        new = np.concatenate([[0], np.cumsum(ordered[1:] != ordered[:-1])])
        rank = np.empty(n, dtype=np.int64)
        rank[sa] = new
        if new[-1] == n - 1 or k >= n:
            break
        k *= 2
    return sa


class CopyIndex:
    """Built once over the training text (about a second per million characters); each check takes milliseconds."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sa = suffix_array(text)

    def longest_at(self, query: str, i: int) -> tuple[int, int]:
        """(length, position in the training text) of the longest prefix of query[i:] found in it."""
        q = query[i:]
        text, sa = self.text, self.sa
        j = bisect.bisect_left(sa, q, key=lambda p: text[p:p + len(q)])
        best = (0, 0)
        for neighbour in (j - 1, j):
            if 0 <= neighbour < sa.size:
                p = int(sa[neighbour])
                best = max(best, (len(os.path.commonprefix([q, text[p:p + len(q)]])), p))
        return best

    def check(self, query: str) -> Copying:
        lengths = [self.longest_at(query, i)[0] for i in range(len(query))]
        if not lengths:
            return Copying(0, "", None)
        start = int(np.argmax(lengths))
        grams = len(query) - NGRAM + 1
        share = sum(n >= NGRAM for n in lengths[:grams]) / grams if grams > 0 else None
        return Copying(lengths[start], query[start:start + lengths[start]], share)
