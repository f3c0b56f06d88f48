"""Packing a session's commands into Pub/Sub messages, adaptively: a command goes out at
once when its session has no publish in flight (nor one started within `gap_s`), and
whatever arrives meanwhile goes out together in the next. A quiet session waits for
nothing; a busy one sends large batches, at most one per gap, and the functions then score
a batch with one read and one commit. The gateway still computes nothing: it only packs
frames it would have relayed one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from vocabquiz.protocol.envelope import ATTR_BATCH, ATTR_SESSION_ID, encode_command_batch

# Publishes (data, attributes); resolves once Pub/Sub has stored the message.
Publish = Callable[[bytes, dict[str, str]], Awaitable[object]]
MAX_BATCH_COMMANDS = 500  # ~0.5 MB at the 1 KiB a command takes at most: far under Pub/Sub's 10 MB


class CommandBatcher:
    def __init__(self, publish: Publish, gap_s: float = 0.0, max_commands: int = MAX_BATCH_COMMANDS) -> None:
        self.publish = publish
        self.gap_s = gap_s
        self.max_commands = max_commands
        # Per session: commands waiting for the publish in flight (or the gap) to end. A
        # session has an entry only while it has a publish in flight.
        self._waiting: dict[str, list[tuple[bytes, asyncio.Future[None]]]] = {}
        # Per session: the batch whose publish is in flight.
        self._publishing: dict[str, list[tuple[bytes, asyncio.Future[None]]]] = {}
        # Per session: when its last publish started, kept for one gap at most.
        self._started: dict[str, float] = {}

    async def submit(self, session_id: str, command: bytes) -> None:
        """Publish one encoded command (protocol.envelope.encode_command) with whatever
        else of its session is waiting; returns once Pub/Sub has stored it and raises
        what publishing raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.get(session_id)
        if waiting is not None:
            waiting.append((command, done))
        else:
            self._waiting[session_id] = [(command, done)]
            asyncio.get_running_loop().create_task(self._drain(session_id))
        await done

    async def _drain(self, session_id: str) -> None:
        waiting = self._waiting[session_id]
        loop = asyncio.get_running_loop()
        try:
            while waiting:
                started = self._started.get(session_id)
                if started is not None and loop.time() < started + self.gap_s:
                    await asyncio.sleep(started + self.gap_s - loop.time())
                if self.gap_s:
                    self._started[session_id] = loop.time()
                batch = waiting[: self.max_commands]
                del waiting[: self.max_commands]
                data = encode_command_batch([command for command, _ in batch])
                self._publishing[session_id] = batch
                try:
                    await self.publish(data, {ATTR_BATCH: "1", ATTR_SESSION_ID: session_id})
                except Exception as exc:  # noqa: BLE001 - each sender learns its frame was not taken
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._publishing.pop(session_id, None)
            del self._waiting[session_id]
            now = loop.time()
            for idle in [s for s, at in self._started.items() if now >= at + self.gap_s]:
                del self._started[idle]

    def abandon(self, exc: BaseException) -> None:
        """Stop waiting (SIGTERM's drain timed out): every sender still waiting gets `exc`,
        those whose batch is being published too (it may yet be stored: a sender cannot
        tell), and the commands not yet in a publish are dropped, never published."""
        for batch in [*self._waiting.values(), *self._publishing.values()]:
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
        for waiting in self._waiting.values():
            waiting.clear()
