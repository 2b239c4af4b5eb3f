"""Frames a worker keeps between finishes: the stored slot sums and the linear credits.

An incremental finish read both whole from the database although one slot had changed: 0.2 s
of a one-account run at 10 000 accounts. The worker that wrote them keeps them instead, with
the version of every slot they came from (``EngineSlot.version``, new with every write of a
slot, in this worker or any other). A frame is used again only for the same slot layout and,
per slot, the same version; a slot whose version moved is read again (``changed``).

The sums a finish computed are kept once its transaction commits: a finish that fails keeps
none. Credits are kept as read (committed rows, whatever becomes of the finish). The versions a
frame is kept with are read before its rows, so rows newer than their version are read again
next time rather than kept as older. Frames over ``KEEP_AT_MOST`` rows are not kept:
memory per worker stays bounded at any size (at 100 000 accounts the reads are a small part of
the finish).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.db import transaction

KEEP_AT_MOST = 250_000  # rows of one frame


@dataclass(frozen=True)
class Kept:
    slots: int  # the layout
    versions: dict[int, str]  # slot -> the version its part of the frame is
    frame: pd.DataFrame

    def changed(self, slots: int, versions: dict[int, str]) -> list[int] | None:
        """The slots whose part of the frame is not as ``versions`` says (to read again), or
        None when the frame is of another layout or holds a slot that is gone."""
        if slots != self.slots or not set(self.versions) <= set(versions):
            return None
        return sorted(s for s, version in versions.items() if self.versions.get(s) != version)


_KEPT: dict[str, Kept] = {}


def kept(name: str) -> Kept | None:
    return _KEPT.get(name)


def keep(
    name: str, slots: int, versions: dict[int, str], frame: pd.DataFrame, *, on_commit=False
) -> None:
    """Keep ``frame`` as ``name``, at once or (``on_commit``: what this transaction writes)
    once the transaction commits; the one kept before is forgotten at once either way."""
    _KEPT.pop(name, None)
    if len(frame) > KEEP_AT_MOST:
        return
    held = Kept(slots, dict(versions), frame)
    if on_commit:
        transaction.on_commit(lambda: _KEPT.__setitem__(name, held))
    else:
        _KEPT[name] = held


def forget() -> None:
    """Drop every kept frame (a test's new database)."""
    _KEPT.clear()
