"""An instance's copy of what a flush reads, under a crowd: flushes of one session that
pile up on an instance's threads (a backlog) share reads instead of each making its own,
and none gets a copy read before it asked."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timedelta

from vocabquiz.service.standings import ChangedSince


class SlowReads:
    """A store read that holds its first call until released; counts the calls."""

    def __init__(self) -> None:
        self.calls: list[datetime | None] = []
        self.first_started = threading.Event()
        self.release = threading.Event()

    def __call__(self, key: str, since: datetime | None) -> tuple[dict[str, int], set[str], datetime | None]:
        self.calls.append(since)
        if len(self.calls) == 1:
            self.first_started.set()
            assert self.release.wait(5)
        return (
            {f"doc-{len(self.calls)}": len(self.calls)},
            set(),
            datetime(2030, 1, 1) + timedelta(seconds=len(self.calls)),
        )


def test_a_crowd_of_flushes_for_one_session_costs_two_reads_not_one_each() -> None:
    reads = SlowReads()
    ticks = itertools.count(1_000)
    copies = ChangedSince(reads, lambda: next(ticks), timedelta(0))
    got: list[dict[str, int]] = []

    def flush() -> None:
        got.append(dict(copies.current("ABC234")))

    first = threading.Thread(target=flush)
    first.start()
    assert reads.first_started.wait(5)
    # Four more ask while the first read is out: it began before they asked, so it will
    # not do for them; one read after it does for all four.
    crowd = [threading.Thread(target=flush) for _ in range(4)]
    for thread in crowd:
        thread.start()
    time.sleep(0.2)
    reads.release.set()
    for thread in (first, *crowd):
        thread.join(5)
    assert len(reads.calls) == 2
    assert got[0] == {"doc-1": 1} and got[1:] == [{"doc-1": 1, "doc-2": 2}] * 4


def test_a_flush_that_asks_after_the_last_read_began_reads_again() -> None:
    calls: list[datetime | None] = []

    def read(key: str, since: datetime | None) -> tuple[dict[str, int], set[str], datetime | None]:
        calls.append(since)
        return {}, set(), datetime(2030, 1, 1)

    ticks = itertools.count(1_000)
    copies = ChangedSince(read, lambda: next(ticks), timedelta(0))
    copies.current("ABC234")
    copies.current("ABC234")
    assert calls == [None, datetime(2030, 1, 1)]  # a full read, then what changed since
