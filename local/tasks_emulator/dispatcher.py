"""Sends due tasks over HTTP and feeds the results back to the store.

One small coroutine per queue sleeps until the store says something is due
(a schedule time, a rate-limit token, a free concurrency slot, a resume),
then starts attempts as independent asyncio tasks: no thread per task, and a
single pooled aiohttp session keeps connections to the same host alive.
Anything that changes a queue calls :meth:`Dispatcher.notify` so its
coroutine re-reads the store instead of sleeping through the change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp

from tasks_emulator.delivery import OutboundRequest, build_request
from tasks_emulator.records import Outcome, Started, Wait
from tasks_emulator.store import Store

log = logging.getLogger("tasks_emulator.dispatcher")


def wall_clock_us() -> int:
    return time.time_ns() // 1000


def make_http_client() -> aiohttp.ClientSession:
    """One pooled session for all dispatches (call inside the running loop).

    aiohttp rather than httpx: with a hundred requests due at the same instant
    (many sessions' batching windows closing together) httpx's pool took
    0.2-1.7 s to get them out on this machine, aiohttp about 30 ms.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),  # queues cap concurrency
        # The dispatch deadline is enforced around the whole request instead.
        timeout=aiohttp.ClientTimeout(total=None),
        # Send only what Cloud Tasks sends: no Accept/Accept-Encoding, no
        # aiohttp User-Agent and no Content-Type guessed for the body.
        skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
        auto_decompress=False,
        # Local handlers must not be reached through a proxy from the env.
        trust_env=False,
    )


class Dispatcher:
    def __init__(
        self,
        store: Store,
        http: aiohttp.ClientSession,
        clock: Callable[[], int] = wall_clock_us,
    ) -> None:
        self._store = store
        self._http = http
        self._clock = clock
        self._wakeups: dict[str, asyncio.Event] = {}
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._attempts: set[asyncio.Task[None]] = set()
        self._closing = False

    def notify(self, queue: str) -> None:
        """Tell ``queue``'s loop to look at the store again (starting it if needed)."""
        if self._closing:
            return
        event = self._wakeups.get(queue)
        if event is not None:
            event.set()
            return
        event = asyncio.Event()
        self._wakeups[queue] = event
        self._loops[queue] = asyncio.create_task(self._run_queue(queue, event))

    def start(self, started: Started) -> None:
        """Send an attempt the store has already started (RunTask)."""
        task = asyncio.create_task(self._attempt(started))
        self._attempts.add(task)
        task.add_done_callback(self._attempts.discard)

    async def aclose(self) -> None:
        self._closing = True
        pending = [*self._loops.values(), *self._attempts]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._http.close()

    async def _run_queue(self, queue: str, event: asyncio.Event) -> None:
        try:
            while True:
                event.clear()
                result = self._store.poll(queue, self._clock())
                while isinstance(result, Started):
                    self.start(result)
                    result = self._store.poll(queue, self._clock())
                if result is None:
                    return  # queue deleted
                await self._sleep(event, result)
        except Exception:  # a bug here must not silently stop a queue
            log.exception("queue loop crashed", extra={"json_fields": {"queue": queue}})
            raise
        finally:
            if self._wakeups.get(queue) is event:
                del self._wakeups[queue]
                del self._loops[queue]

    async def _sleep(self, event: asyncio.Event, wait: Wait) -> None:
        if wait.until_us is None:
            await event.wait()
            return
        delay = (wait.until_us - self._clock()) / 1e6
        if delay <= 0:
            return
        try:
            async with asyncio.timeout(delay):
                await event.wait()
        except TimeoutError:
            pass

    async def _attempt(self, started: Started) -> None:
        request = build_request(started)
        outcome = await self._send(request)
        now = self._clock()
        verdict = self._store.finish_attempt(started.ticket, outcome, now)
        fields = {
            "task": str(started.name),
            "attempt": started.retry_count + 1,
            "status": outcome.http_status,
            "error": outcome.error,
            "lateness_ms": round((started.dispatch_us - started.eta_us) / 1000, 3),
            "verdict": verdict.kind,
        }
        level = logging.DEBUG if verdict.kind in ("succeeded", "gone") else logging.INFO
        if verdict.kind == "dropped":
            level = logging.WARNING
        log.log(level, "task attempt finished", extra={"json_fields": fields})
        self.notify(started.ticket.queue)

    async def _send(self, request: OutboundRequest) -> Outcome:
        try:
            async with asyncio.timeout(request.timeout_s):
                async with self._http.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.body or None,
                    # Redirects "may be followed" and are "not counted as a
                    # separate attempt".
                    allow_redirects=True,
                ) as response:
                    await response.read()  # frees the connection for reuse
        except TimeoutError:
            return Outcome(None, f"DEADLINE_EXCEEDED: no response within {request.timeout_s}s")
        except aiohttp.ClientError as exc:
            return Outcome(None, f"UNAVAILABLE: {type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - e.g. a malformed URL: a failed attempt, not a crash
            return Outcome(None, f"INTERNAL: {type(exc).__name__}: {exc}")
        return Outcome(response.status)
