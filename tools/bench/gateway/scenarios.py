"""The three measurements, written once for every server under test.

(a) idle: RSS delta of the server process per held socket;
(b) fan-out: frames/s delivered at the clients for a saturating stream of one message to
    a room (K messages sent back to back; rate = frames / (last frame - first frame), so
    Pub/Sub's delivery latency is excluded), plus one-event latency, trigger -> last socket;
(c) the gateway at Cloud Run size: its CPU while 100 sessions get 10 leaderboards/s each.
"""

from __future__ import annotations

import asyncio
import itertools
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.gateway.common import (
    SESSIONS_C,
    bench_uid,
    cpu_s,
    cpu_split,
    group_cpu_s,
    machine_cpu,
    rss_kib,
    session_c_of,
)
from bench.gateway.control import ClientPool
from bench.gateway.frames import BOARD_MARKER, leaderboard_event, session_joined
from bench.gateway.stack import BenchStack
from vocabquiz.protocol.boards import split_board
from vocabquiz.protocol.envelope import ATTR_ROOM, ATTR_SESSION_ID, ATTR_TARGET_CONNECTION, ROOM_ENTER

Trigger = Callable[[str, int], Awaitable[Any]]  # (room, count): send `count` messages to a room


@dataclass
class Target:
    name: str
    pid: int
    marker: str  # how the clients recognise the stream message
    trigger: Trigger


class Window:
    """CPU of the server, the clients and the whole machine over one measurement."""

    def __init__(self, server_pid: int, client_pids: list[int]) -> None:
        self.server_pid, self.client_pids = server_pid, client_pids
        self.t0 = time.monotonic()
        self.server0 = cpu_split(server_pid)
        self.clients0 = sum(cpu_s(p) for p in client_pids)
        self.machine0 = machine_cpu()

    def close(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        busy, total = machine_cpu()
        jiffies = total - self.machine0[1]
        user, system = (
            now - then for now, then in zip(cpu_split(self.server_pid), self.server0, strict=True)
        )
        server = user + system
        return {
            "wall_s": wall,
            "server_cpu_s": server,
            "server_cpu_pct": 100 * server / wall,
            "server_kernel_cpu_pct": 100 * system / wall,  # socket writes, mostly
            "clients_cpu_pct": 100 * (sum(cpu_s(p) for p in self.client_pids) - self.clients0) / wall,
            # 100 % = every core busy, whoever used it (other work on the machine included).
            "machine_busy_pct": 100 * (busy - self.machine0[0]) / jiffies if jiffies else 0.0,
        }


async def settled_rss(pid: int, max_s: float = 8.0) -> int:
    """RSS once it stops moving (two samples 0.5 s apart within 0.5 %)."""
    previous = rss_kib(pid)
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        current = rss_kib(pid)
        if abs(current - previous) <= previous * 0.005:
            return current
        previous = current
    return previous


async def connect(pool: ClientPool, total: int, concurrency: int) -> dict[str, Any]:
    replies = await pool.all("connect", timeout_s=600, total=total, concurrency=concurrency)
    failed = sum(r["failed"] for r in replies)
    return {
        "connected": sum(r["connected"] for r in replies),
        "failed": failed,
        "seconds": max(r["seconds"] for r in replies),
    }


async def idle_memory(pool: ClientPool, pid: int, sockets: int, concurrency: int) -> dict[str, Any]:
    # Warm up first: the first handshakes load code and start thread pools once.
    await connect(pool, 64, concurrency)
    await pool.all("close", keep=0, settle_s=1.0)
    before = await settled_rss(pid)
    opened = await connect(pool, sockets, concurrency)
    after = await settled_rss(pid)
    held = opened["connected"]
    return {
        **opened,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_socket": (after - before) / held if held else None,
    }


async def stream_run(
    pool: ClientPool, target: Target, room: str, size: int, count: int, timeout_s: float = 60
) -> dict[str, Any]:
    """Send `count` messages to a room of `size` sockets; what the clients saw."""
    await pool.all("reset", marker=target.marker)
    expected = [{"per_socket": count, "wait_s": timeout_s, "below": size} for i in range(len(pool.clients))]
    window = Window(target.pid, pool.pids)
    waiting = asyncio.create_task(pool.each("wait", expected, timeout_s + 30))
    started = time.monotonic()
    sent = await target.trigger(room, count)
    replies = await waiting
    cpu = window.close()
    seen = [r for r in replies if r["hits"]]
    hits = sum(r["hits"] for r in replies)
    first = min((r["first"] for r in seen), default=started)
    last = max((r["last"] for r in seen), default=started)
    return {
        "frames": hits,
        "expected": size * count,
        "min_per_socket": min(r["min_per_socket"] for r in replies),
        "sockets_open": sum(r["open"] for r in replies),
        "frames_per_s": hits / (last - first) if last > first else None,
        "frames_per_server_cpu_s": hits / cpu["server_cpu_s"] if cpu["server_cpu_s"] else None,
        "trigger_to_last_ms": 1000 * (last - started),
        "trigger_to_first_ms": 1000 * (first - started),
        # Baselines: when the server had written (bare) or queued (socketio) its last frame.
        "server_done_to_last_ms": 1000 * (last - sent["ended"]) if sent and "ended" in sent else None,
        **cpu,
    }


def summarize(size: int, count: int, runs: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    rates = [r["frames_per_s"] or 0.0 for r in runs]
    per_cpu = [r["frames_per_server_cpu_s"] or 0.0 for r in runs]
    return {
        "sockets": size,
        "messages": count,
        "frames_per_s": statistics.median(rates),
        "frames_per_s_runs": rates,
        "frames_per_server_cpu_s": statistics.median(per_cpu),
        "server_cpu_pct_median": statistics.median(r["server_cpu_pct"] for r in runs),
        "clients_cpu_pct_median": statistics.median(r["clients_cpu_pct"] for r in runs),
        "machine_busy_pct_median": statistics.median(r["machine_busy_pct"] for r in runs),
        "delivered_fraction": sum(r["frames"] for r in runs) / sum(r["expected"] for r in runs),
        "one_event_to_last_ms_median": statistics.median(latencies) if latencies else None,
        "one_event_to_last_ms_runs": latencies,
        "runs": runs,
    }


# -- the gateway's rooms, entered the honest way -------------------------------------


async def gateway_join(stack: BenchStack, pool: ClientPool, sockets: int) -> dict[str, str]:
    """Every socket g < sockets sends JOIN_SESSION; the gateway publishes it with the
    socket's connection id, which the bench pulls from quiz-commands."""
    await pool.all("reset", marker="\0")
    acks = await pool.all("join", timeout_s=180, below=sockets, session_id="bench", wait_s=120)
    ids = await asyncio.to_thread(stack.connection_ids, {bench_uid(g) for g in range(sockets)}, 120)
    if len(ids) < sockets:
        raise RuntimeError(f"connection ids for {len(ids)} of {sockets} sockets (acks: {acks})")
    return ids


async def gateway_enter(
    stack: BenchStack,
    pool: ClientPool,
    ids: dict[str, str],
    rooms_of: Callable[[int], list[str]],
    sockets: int,
) -> int:
    """Publish one SESSION_JOINED (room=enter, target_connection) per socket and room,
    as the functions do on a join; wait until every socket has received its own."""
    await pool.all("reset", marker="\0")
    futures = []
    per_client = [0] * len(pool.clients)
    for g in range(sockets):
        uid = bench_uid(g)
        for room in rooms_of(g):
            attrs = {ATTR_SESSION_ID: room, ATTR_TARGET_CONNECTION: ids[uid], ATTR_ROOM: ROOM_ENTER}
            futures.append(stack.publish(session_joined(room, uid), attrs))
            per_client[g % len(pool.clients)] += 1
    await asyncio.to_thread(stack.wait_published, futures)
    replies = await pool.each(
        "wait_type", [{"kind": "SESSION_JOINED", "count": n, "wait_s": 60} for n in per_client], 120
    )
    seen = sum(int(r["seen"]) for r in replies)
    if seen < len(futures):
        print(f"  warning: {seen} of {len(futures)} room entries reached their sockets", flush=True)
    return seen


def _numbered(message: bytes, number: int) -> bytes:
    """The event with its frame id prefixed by `number` (gateway/repeats.py drops repeats)."""
    numbered = message.replace(b'"message_id":"', b'"message_id":"%d-' % number, 1)
    assert numbered != message, "the bench's event carries no message_id"
    return numbered


def gateway_trigger(stack: BenchStack, message: bytes) -> Trigger:
    """Publish to quiz-events. A single event goes with the session as ordering key, as
    vocabquiz/adapters/events.py publishes; a stream goes without one, because the
    emulator hands out one key's messages one by one (tens per second), which would
    measure the emulator instead of the gateway."""

    numbers = itertools.count()  # each copy its own frame id: the gateway sends an id once

    async def trigger(room: str, count: int) -> None:
        key = room if count == 1 else ""

        def publish_all() -> None:
            futures = [
                stack.publish(_numbered(message, next(numbers)), {ATTR_SESSION_ID: room}, ordering_key=key)
                for _ in range(count)
            ]
            stack.wait_published(futures)

        await asyncio.to_thread(publish_all)

    return trigger


async def cloud_run_load(
    stack: BenchStack,
    pool: ClientPool,
    gateway_pid: int,
    emulator_pgid: int,
    sockets: int,
    per_session_hz: float,
    warm_s: float,
    measure_s: float,
    ordered: bool = False,
) -> dict[str, Any]:
    """(c): 100 sessions (the sockets g < `sockets`, if they entered them) each get
    `per_session_hz` LEADERBOARD_UPDATED events/s. Measured after `warm_s`, for `measure_s`.

    `ordered` publishes with the session as ordering key, as vocabquiz/service/game.py does; the
    emulator then hands out a key's next message only after the previous one's ack, so
    a session's boards arrive in pairs and the gateway's pacing merges them: fewer boards
    reach the sockets than were offered (see `frames_per_s_per_socket`)."""
    members: dict[str, list[str]] = {session_c_of(k): [] for k in range(SESSIONS_C)}
    for g in range(sockets):
        members[session_c_of(g)].append(bench_uid(g))
    # Ten boards per session, each sent with the next version: the gateway drops a board
    # whose version is not above the last one it sent (it is older news).
    versions = 10
    events = {
        s: [leaderboard_event(s, 0, uids, seed=1000 * v + int(s[1:])) for v in range(versions)]
        for s, uids in members.items()
    }
    sizes = [len(e) for evs in events.values() for e in evs]
    await pool.all("reset", marker=BOARD_MARKER)
    loop = asyncio.get_running_loop()
    tick = 1 / per_session_hz
    start = loop.time()
    futures: list[object] = []
    window: Window | None = None
    at_start: dict[str, float] = {}
    published = 0
    n = 0
    while True:
        now = loop.time()
        if window is None and now - start >= warm_s:
            frames0 = sum(r["hits"] for r in await pool.all("snapshot"))
            window = Window(gateway_pid, pool.pids)
            at_start = {"emulator": group_cpu_s(emulator_pgid), "self": _self_cpu_s(), "published": published}
            at_start["frames"] = frames0
        if now - start >= warm_s + measure_s:
            break
        for s, evs in events.items():
            futures.append(
                stack.publish(
                    evs[n % versions].replace(b'"version":0,', b'"version":%d,' % n, 1),
                    {ATTR_SESSION_ID: s},
                    ordering_key=s if ordered else "",
                )
            )
            published += 1
        n += 1
        await asyncio.sleep(max(0.0, start + n * tick - loop.time()))
    assert window is not None
    measured = window.close()
    frames = sum(r["hits"] for r in await pool.all("snapshot")) - at_start["frames"]
    wall = measured["wall_s"]
    emulator_pct = 100 * (group_cpu_s(emulator_pgid) - at_start["emulator"]) / wall
    publisher_pct = 100 * (_self_cpu_s() - at_start["self"]) / wall
    await asyncio.to_thread(stack.wait_published, futures)
    in_sessions = min(sockets, SESSIONS_C * max(len(u) for u in members.values()))
    return {
        "sockets_in_sessions": in_sessions,
        "sessions": len(members),
        "leaderboards_per_s_per_session": per_session_hz,
        "ordering_keys": ordered,
        "event_bytes_median": statistics.median(sizes),
        "published_per_s": (published - at_start["published"]) / wall,
        "frames_per_s": frames / wall,
        "frames_per_s_per_socket": frames / sockets / wall if sockets else 0.0,
        "gateway_cpu_pct": measured["server_cpu_pct"],
        "gateway_cpu_ms_per_event": 1000
        * measured["server_cpu_s"]
        / max(1, published - at_start["published"]),
        "emulator_cpu_pct": emulator_pct,
        "publisher_cpu_pct": publisher_pct,
        **{k: v for k, v in measured.items() if k != "server_cpu_pct"},
    }


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def bare_cloud_run_load(
    process: Any, pool: ClientPool, server_pid: int, per_session_hz: float, warm_s: float, measure_s: float
) -> dict[str, Any]:
    """(c) on the bare websockets server: the same boards (as a socket receives one, its
    `your_rank` in place), `per_session_hz` per session room, each room its own broadcast,
    from memory — the floor of sending (c)'s frames, without Pub/Sub or the gateway."""
    shared, _ = split_board(leaderboard_event("c0", 1, [], seed=1))
    board = (shared + b',"your_rank":42}}').decode()
    await pool.all("reset", marker=BOARD_MARKER)
    seconds = warm_s + measure_s
    request = process.call("paced", timeout_s=seconds + 60, hz=per_session_hz, seconds=seconds, message=board)
    paced = asyncio.create_task(request)
    await asyncio.sleep(warm_s)
    frames0 = sum(r["hits"] for r in await pool.all("snapshot"))
    window = Window(server_pid, pool.pids)
    await asyncio.sleep(measure_s)
    measured = window.close()
    frames = sum(r["hits"] for r in await pool.all("snapshot")) - frames0
    sockets = sum(r["open"] for r in await pool.all("snapshot"))
    await paced
    wall = measured["wall_s"]
    return {
        "sockets": sockets,
        "board_bytes": len(board),
        "frames_per_s": frames / wall,
        "frames_per_s_per_socket": frames / sockets / wall if sockets else 0.0,
        **measured,
    }
