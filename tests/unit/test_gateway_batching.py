"""The gateway's command batcher: a quiet session's command goes out at once, alone;
what arrives while a publish is in flight goes out together in the next; each sender
learns whether Pub/Sub took its own frame."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.batching import CommandBatcher
from vocabquiz.protocol.envelope import ATTR_BATCH, ATTR_SESSION_ID


class SlowPubSub:
    """Stores each message after its turn; fails the publishes it is told to."""

    def __init__(self) -> None:
        self.published: list[tuple[list[int], dict[str, str]]] = []
        self.release = asyncio.Event()
        self.fail_next = False

    async def publish(self, data: bytes, attributes: dict[str, str]) -> str:
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("Pub/Sub unavailable")
        self.published.append((json.loads(data), attributes))
        return "id"


async def test_quiet_sessions_command_is_published_at_once_alone() -> None:
    pubsub = SlowPubSub()
    pubsub.release.set()
    await CommandBatcher(pubsub.publish).submit("S1", b"1")
    assert pubsub.published == [([1], {ATTR_BATCH: "1", ATTR_SESSION_ID: "S1"})]


async def test_commands_arriving_during_a_publish_go_out_together_next_and_sessions_apart() -> None:
    pubsub = SlowPubSub()
    batcher = CommandBatcher(pubsub.publish)
    sends = [asyncio.create_task(batcher.submit("A", b"0"))]
    await asyncio.sleep(0.01)  # A's first publish is in flight
    sends += [asyncio.create_task(batcher.submit(session, b"%d" % n)) for n, session in enumerate("AABA", 1)]
    await asyncio.sleep(0.01)
    pubsub.release.set()
    await asyncio.gather(*sends)
    assert sorted((attrs[ATTR_SESSION_ID], numbers) for numbers, attrs in pubsub.published) == [
        ("A", [0]),
        ("A", [1, 2, 4]),
        ("B", [3]),
    ]
    assert batcher._waiting == {}  # nothing kept for idle sessions


async def test_each_sender_in_a_failed_batch_learns_its_frame_was_not_taken() -> None:
    pubsub = SlowPubSub()
    batcher = CommandBatcher(pubsub.publish)
    first = asyncio.create_task(batcher.submit("A", b"0"))
    await asyncio.sleep(0.01)
    pubsub.fail_next = True
    later = [asyncio.create_task(batcher.submit("A", b"%d" % n)) for n in (1, 2)]
    await asyncio.sleep(0.01)
    pubsub.release.set()
    with pytest.raises(RuntimeError):
        await first
    await asyncio.gather(*later)  # the next batch is published: these were taken
    assert pubsub.published == [([1, 2], {ATTR_BATCH: "1", ATTR_SESSION_ID: "A"})]


async def test_a_batch_holds_at_most_max_commands() -> None:
    pubsub = SlowPubSub()
    batcher = CommandBatcher(pubsub.publish, max_commands=2)
    sends = [asyncio.create_task(batcher.submit("A", b"0"))]
    await asyncio.sleep(0.01)
    sends += [asyncio.create_task(batcher.submit("A", b"%d" % n)) for n in range(1, 5)]
    await asyncio.sleep(0.01)
    pubsub.release.set()
    await asyncio.gather(*sends)
    assert [numbers for numbers, _ in pubsub.published] == [[0], [1, 2], [3, 4]]


async def test_busy_session_publishes_at_most_once_per_gap_and_a_quiet_one_at_once() -> None:
    pubsub = SlowPubSub()
    pubsub.release.set()
    batcher = CommandBatcher(pubsub.publish, gap_s=0.05)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await batcher.submit("A", b"0")  # quiet: at once
    assert loop.time() - began < 0.04
    await asyncio.gather(batcher.submit("A", b"1"), batcher.submit("A", b"2"))  # within the gap
    assert loop.time() - began >= 0.05
    assert [numbers for numbers, _ in pubsub.published] == [[0], [1, 2]]
    await asyncio.sleep(0.06)
    began = loop.time()
    await batcher.submit("A", b"3")  # quiet again
    assert loop.time() - began < 0.04
    await asyncio.sleep(0.06)
    await batcher.submit("B", b"4")
    assert list(batcher._started) == ["B"]  # A's gap is over: nothing kept for it


async def test_abandon_fails_every_waiting_sender_and_never_publishes_what_was_still_waiting() -> None:
    """SIGTERM's drain timed out: the sender whose batch is being published and those
    still waiting all learn it now; what never reached a publish is never published."""
    pubsub = SlowPubSub()
    batcher = CommandBatcher(pubsub.publish)
    publishing = asyncio.create_task(batcher.submit("A", b"0"))
    await asyncio.sleep(0.01)  # A's first publish is in flight, and never answers
    waiting = [asyncio.create_task(batcher.submit(session, b"%d" % n)) for n, session in enumerate("AB", 1)]
    await asyncio.sleep(0.01)
    gave_up = RuntimeError("drained")
    batcher.abandon(gave_up)
    for send in (publishing, *waiting):
        with pytest.raises(RuntimeError, match="drained"):
            await asyncio.wait_for(send, 1)
    pubsub.release.set()  # Pub/Sub answers after all
    await asyncio.sleep(0.01)
    # A's 0 and B's 2 were being published (each its session's first); A's 1 was waiting.
    assert sorted(numbers for numbers, _ in pubsub.published) == [[0], [2]]
    assert batcher._waiting == {} and batcher._publishing == {}
