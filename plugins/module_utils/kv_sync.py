# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""What makes the keys under a prefix of a key-value store hold exactly the wanted documents: the puts (new or
changed) and, when pruning, the deletes (keys under the prefix nobody wants any more). Pure; etcd_documents does
the I/O."""

from __future__ import annotations

from dataclasses import dataclass


class KvSyncError(ValueError):
    """A wanted key outside the prefix it is synchronized under."""


@dataclass(frozen=True)
class Changes:
    puts: dict[str, str]
    deletes: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.puts or self.deletes)


def plan(prefix: str, current: dict[str, str], wanted: dict[str, str], prune: bool) -> Changes:
    outside = sorted(k for k in wanted if not k.startswith(prefix))
    if outside:
        raise KvSyncError(f"documents {outside} are not under prefix {prefix}; name each key under it")
    puts = {k: v for k, v in sorted(wanted.items()) if current.get(k) != v}
    deletes = tuple(sorted(k for k in current if k.startswith(prefix) and k not in wanted)) if prune else ()
    return Changes(puts, deletes)
