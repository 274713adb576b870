"""Key/value states of token sequences a local engine has already run, for later prompts that begin with them.

Design decision: what is kept is per sequence, keyed by its exact token ids, and reused only up to the longest
common prefix of token ids, so a hit can never change what the model sees; it only skips recomputing it.
A debate makes such prefixes all the time: an agent's round-r prompt begins with its round-(r-1) prompt and its
own answer (the states its generation just computed), and the agents of one problem start from the same
solve prompt (self-consistency's k samples too). The store is bounded in bytes and forgets the least
recently used sequences first. Tensors are ``[heads, tokens, head_dim]`` per layer, keys and values.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Shorter shared prefixes are not worth the bookkeeping: recomputing them costs about as much as copying.
MIN_REUSE = 16


@dataclass
class Entry:
    tokens: np.ndarray
    layers: list[tuple[object, object]]  # per layer (keys, values), each [heads, len(tokens), head_dim]
    nbytes: int


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the longest common prefix of two token arrays."""
    m = min(len(a), len(b))
    if m == 0:
        return 0
    same = a[:m] == b[:m]
    return m if bool(same.all()) else int(np.argmin(same))


class PrefixCache:
    """A byte-bounded LRU of (token ids -> per-layer key/value states)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = int(budget_bytes)
        self.entries: OrderedDict[int, Entry] = OrderedDict()
        self.nbytes = 0
        self._next = 0
        self.hits = 0
        self.reused_tokens = 0

    @property
    def enabled(self) -> bool:
        return self.budget_bytes > 0

    def longest(self, tokens: Sequence[int], leave: int = 1) -> tuple[int, Entry | None]:
        """The longest stored prefix of ``tokens`` usable for a prompt: at most ``len(tokens) - leave`` tokens (a
        prompt must keep one to run), and 0 when shorter than ``MIN_REUSE``."""
        if not self.entries:
            return 0, None
        query = np.asarray(tokens, dtype=np.int64)
        best, best_key = 0, None
        for key, entry in self.entries.items():
            if entry.tokens[0] != query[0]:
                continue
            n = common_prefix(entry.tokens, query)
            if n > best:
                best, best_key = n, key
        best = min(best, len(query) - leave)
        if best < MIN_REUSE or best_key is None:
            return 0, None
        self.entries.move_to_end(best_key)
        return best, self.entries[best_key]

    def add(self, tokens: Sequence[int], layers: list[tuple[object, object]]) -> int | None:
        """Keep the states of ``tokens`` (``layers[i] = (keys, values)``, each ``[heads, len(tokens), dim]``);
        return the entry's key, or None when not kept (too short, or larger than the whole budget)."""
        if not self.enabled or len(tokens) < MIN_REUSE:
            return None
        nbytes = sum(k.element_size() * k.nelement() + v.element_size() * v.nelement() for k, v in layers)
        if nbytes > self.budget_bytes:
            return None
        key = self._next
        self.entries[key] = Entry(np.asarray(tokens, dtype=np.int64), layers, nbytes)
        self._next += 1
        self.nbytes += nbytes
        while self.nbytes > self.budget_bytes:
            _, old = self.entries.popitem(last=False)
            self.nbytes -= old.nbytes
        return key

    def discard(self, keys: Sequence[int]) -> None:
        """Forget these entries (those already forgotten are skipped)."""
        for key in keys:
            old = self.entries.pop(key, None)
            if old is not None:
                self.nbytes -= old.nbytes

    def clear(self) -> None:
        self.entries.clear()
        self.nbytes = 0
