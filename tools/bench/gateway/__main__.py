"""`python -m bench.gateway [--quick]`: see docs/bench-gateway.md."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.gateway import scenarios
from bench.gateway.common import (
    ROOT,
    SESSIONS_C,
    fanout_room,
    fanout_rooms_of,
    loadavg,
    raise_nofile,
    session_c_of,
)
from bench.gateway.control import ClientPool, Controlled
from bench.gateway.frames import SOCKETIO_MARKER, STREAM_MARKER, stream_message
from bench.gateway.report import build_rows, load_note, table, write_json
from bench.gateway.stack import HOST, BenchStack
from devstack.processes import free_port

SERVERS = ("gateway", "bare-uvloop", "bare-asyncio", "socketio")
# name -> (servers.py kind, event loop, client mode, stream marker)
BASELINES = {
    "bare-uvloop": ("bare", "uvloop", "ws", STREAM_MARKER),
    "bare-asyncio": ("bare", "asyncio", "ws", STREAM_MARKER),
    "socketio": ("socketio", "uvloop", "sio", SOCKETIO_MARKER),
}


STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.0f} s] {message}", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a small smoke run (1-3 minutes)")
    p.add_argument("--servers", default=",".join(SERVERS), help="comma-separated subset of %(default)s")
    p.add_argument("--idle-sockets", type=int, default=10_000)
    p.add_argument("--fanout", default="1000,5000", help="room sizes for (b)")
    p.add_argument("--frames-per-run", type=int, default=60_000, help="(b): messages x sockets per run")
    p.add_argument("--reps", type=int, default=5, help="(b): throughput runs per room size")
    p.add_argument("--latency-reps", type=int, default=5, help="(b): single-event runs per room size")
    p.add_argument("--clients", type=int, default=4, help="client processes")
    p.add_argument("--concurrency", type=int, default=24, help="handshakes in flight per client process")
    p.add_argument("--c-sockets", type=int, default=1000)
    p.add_argument("--c-rate", type=float, default=10.0, help="(c): leaderboards/s per session")
    p.add_argument("--c-warm", type=float, default=3.0)
    p.add_argument("--c-seconds", type=float, default=15.0)
    p.add_argument(
        "--c-ordered", action="store_true", help="(c): publish with ordering keys, as the functions do"
    )
    p.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench-gateway.json")
    p.add_argument("--keep-logs", action="store_true", help="keep every process's log")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = p.parse_args(argv)
    if args.quick:
        args.idle_sockets, args.fanout, args.frames_per_run = 2000, "200,1000", 20_000
        args.reps, args.latency_reps, args.c_sockets, args.c_seconds = 2, 2, 500, 5.0
    args.sizes = sorted(int(n) for n in args.fanout.split(","))
    args.server_list = [s for s in args.servers.split(",") if s]
    if "socketio" in args.server_list and importlib.util.find_spec("socketio") is None:
        print("bench-gateway: python-socketio is not installed: skipping that baseline", file=sys.stderr)
        args.server_list.remove("socketio")
    unknown = set(args.server_list) - set(SERVERS)
    if unknown:
        p.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    if max(args.sizes) > args.idle_sockets or args.c_sockets > max(args.sizes):
        p.error("need c-sockets <= max(fanout) <= idle-sockets")
    return args


def _messages(args: argparse.Namespace, size: int) -> int:
    return max(5, int(args.frames_per_run) // size)


@dataclass
class Server:
    """One server under test, with its own client processes."""

    name: str
    pid: int
    pool: ClientPool
    target: scenarios.Target | None = None
    stop: Callable[[], Awaitable[None]] | None = None
    results: dict[str, Any] = field(default_factory=dict)


async def start_gateway(args: argparse.Namespace, stack: BenchStack, log_dir: Path) -> Server:
    child, port = stack.start_gateway()
    pool = await ClientPool.start("gateway", HOST, port, args.clients, args.sizes, log_dir)
    trigger = scenarios.gateway_trigger(stack, stream_message().encode())

    async def stop() -> None:
        await pool.stop()
        stack.stop_child(child)

    pid = child.process.pid
    return Server("gateway", pid, pool, scenarios.Target("gateway", pid, STREAM_MARKER, trigger), stop)


async def start_baseline(args: argparse.Namespace, name: str, log_dir: Path) -> Server:
    kind, loop_kind, mode, marker = BASELINES[name]
    port = free_port()
    process = await Controlled.start(name, "bench.gateway.servers", [kind, loop_kind, str(port)], log_dir)
    pool = await ClientPool.start(mode, HOST, port, args.clients, args.sizes, log_dir)
    message = stream_message()

    async def trigger(room: str, count: int) -> dict[str, Any]:
        return await process.call("stream", timeout_s=900, room=room, count=count, message=message)

    async def stop() -> None:
        await pool.stop()
        await process.stop()

    server = Server(name, process.pid, pool, scenarios.Target(name, process.pid, marker, trigger), stop)
    server.results["process"] = process  # for `members`; dropped before the JSON
    return server


async def prepare(args: argparse.Namespace, server: Server, stack: BenchStack) -> None:
    """(a) where it applies, then leave max(fanout) sockets in their fan-out rooms."""
    biggest = max(args.sizes)
    if server.name == "socketio":
        say(f"{server.name}: {biggest:,} sockets ...")
        server.results["connect"] = await scenarios.connect(server.pool, biggest, args.concurrency)
    else:
        say(f"{server.name}: (a) {args.idle_sockets:,} idle sockets ...")
        server.results["idle"] = await scenarios.idle_memory(
            server.pool, server.pid, args.idle_sockets, args.concurrency
        )
        await server.pool.all("close", keep=biggest, settle_s=2.0)
    if server.name == "gateway":
        say(f"gateway: {biggest:,} sockets join (JOIN_SESSION -> quiz-commands -> room=enter) ...")
        ids = await scenarios.gateway_join(stack, server.pool, biggest)
        server.results["connection_ids"] = ids  # for (c); dropped before the JSON
        await scenarios.gateway_enter(
            stack, server.pool, ids, lambda g: fanout_rooms_of(g, args.sizes), biggest
        )
        return
    process = server.results["process"]
    for size in args.sizes:
        members = (await process.call("members", room=fanout_room(size)))["recipients"]
        if members != size:
            raise RuntimeError(f"{server.name}: room {fanout_room(size)} has {members} sockets, not {size}")


async def idle_cpu(args: argparse.Namespace, servers: list[Server], seconds: float = 5.0) -> None:
    """Each server's CPU while its max(fanout) sockets sit idle (pings, Pub/Sub upkeep),
    all measured over the same window."""
    say(f"idle CPU with {max(args.sizes):,} sockets open, {seconds:g} s ...")
    windows = [scenarios.Window(s.pid, s.pool.pids) for s in servers]
    await asyncio.sleep(seconds)
    for server, window in zip(servers, windows, strict=True):
        server.results["idle_cpu"] = {"sockets": max(args.sizes), **window.close()}


async def fanout_interleaved(args: argparse.Namespace, servers: list[Server]) -> None:
    """(b), the servers taking turns run by run, so a change in the machine's load
    (others' work on it) hits every server alike."""
    for size in args.sizes:
        room, count = fanout_room(size), _messages(args, size)
        say(
            f"(b) fan-out to {size:,}: {args.latency_reps} single events, then {args.reps} x {count} "
            f"messages, per server in turn ..."
        )
        latencies: dict[str, list[float]] = {s.name: [] for s in servers}
        runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
        for _ in range(args.latency_reps):
            for s in servers:
                assert s.target is not None
                run = await scenarios.stream_run(s.pool, s.target, room, size, 1, 30)
                latencies[s.name].append(run["trigger_to_last_ms"])
        timeout_s = max(60.0, size * count / 2000)  # generous: the slowest server at 2,000 frames/s
        for _ in range(args.reps):
            for s in servers:
                assert s.target is not None
                run = await scenarios.stream_run(s.pool, s.target, room, size, count, timeout_s)
                runs[s.name].append(run)
                say(
                    f"    {s.name}: {run['frames_per_s'] or 0:,.0f} frames/s, {run['frames']:,} of "
                    f"{run['expected']:,}, server CPU {run['server_cpu_pct']:.0f} %, "
                    f"machine {run['machine_busy_pct']:.0f} % busy"
                )
        for s in servers:
            s.results[f"fanout_{size}"] = scenarios.summarize(size, count, runs[s.name], latencies[s.name])


async def cloud_run(args: argparse.Namespace, gateway: Server, stack: BenchStack) -> None:
    """(c), twice: first with no socket in the sessions (the cost of receiving the events
    from Pub/Sub alone), then with `c_sockets` sockets in them."""
    await gateway.pool.all("close", keep=args.c_sockets, settle_s=2.0)
    load = (gateway.pool, gateway.pid, stack.children[0].process.pid)
    say(
        f"(c) gateway: {SESSIONS_C} sessions x {args.c_rate:g} leaderboards/s, no socket in them, "
        f"{args.c_warm + args.c_seconds:g} s ..."
    )
    gateway.results["cloud_run_receive_only"] = await scenarios.cloud_run_load(
        stack, *load, 0, args.c_rate, args.c_warm, args.c_seconds, args.c_ordered
    )
    ids = gateway.results["connection_ids"]
    await scenarios.gateway_enter(stack, gateway.pool, ids, lambda g: [session_c_of(g)], args.c_sockets)
    say(f"(c) gateway: the same with {args.c_sockets:,} sockets in them ...")
    gateway.results["cloud_run"] = await scenarios.cloud_run_load(
        stack, *load, args.c_sockets, args.c_rate, args.c_warm, args.c_seconds, args.c_ordered
    )


async def bare_cloud_run(args: argparse.Namespace, bare: Server) -> None:
    """(c)'s frames sent by the bare server from memory: the floor the gateway's (c) is
    measured against (run alone: the other servers idle)."""
    await bare.pool.all("close", keep=args.c_sockets, settle_s=2.0)
    say(f"(c) bare-uvloop: the same boards to {args.c_sockets:,} sockets, from memory ...")
    bare.results["cloud_run"] = await scenarios.bare_cloud_run_load(
        bare.results["process"], bare.pool, bare.pid, args.c_rate, args.c_warm, args.c_seconds
    )


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in (
        "websockets",
        "uvloop",
        "python-socketio",
        "python-engineio",
        "aiohttp",
        "google-cloud-pubsub",
        "firebase-admin",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    nofile = raise_nofile()
    if nofile < args.idle_sockets + 1024:
        raise SystemExit(
            f"RLIMIT_NOFILE hard limit {nofile} is too low for {args.idle_sockets:,} sockets in one process: "
            "raise it (ulimit -Hn) or pass a smaller --idle-sockets"
        )
    main_task = asyncio.current_task()
    assert main_task is not None
    # SIGTERM (e.g. from `timeout`) cancels the run, so every child is still stopped.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    started = time.monotonic()
    meta: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "argv": argv,
        "versions": versions(),
        "cpus": len(os.sched_getaffinity(0)),
        "nofile": nofile,
        "loadavg_before": loadavg(),
        "logs": str(log_dir),
    }
    print(f"bench-gateway: logs in {log_dir} (removed after a clean run unless --keep-logs)")
    stack = BenchStack(log_dir)
    servers: list[Server] = []
    try:
        if "gateway" in args.server_list:
            say("starting the Pub/Sub emulator and the gateway ...")
            stack.start_emulator()
            servers.append(await start_gateway(args, stack, log_dir))
        for name in args.server_list:
            if name != "gateway":
                servers.append(await start_baseline(args, name, log_dir))
        for server in servers:
            await prepare(args, server, stack)
        await idle_cpu(args, servers)
        await fanout_interleaved(args, servers)
        gateway = next((s for s in servers if s.name == "gateway"), None)
        bare = next((s for s in servers if s.name == "bare-uvloop"), None)
        if gateway is not None and bare is not None:
            await bare_cloud_run(args, bare)
        for server in servers:
            if server is not gateway and server.stop is not None:
                await server.stop()
                server.stop = None
        if gateway is not None:
            await cloud_run(args, gateway, stack)
    finally:
        for server in servers:
            if server.stop is not None:
                await server.stop()
        stack.stop()
    if not args.keep_logs:
        shutil.rmtree(log_dir, ignore_errors=True)
        meta["logs"] = None
    results = {
        s.name: {k: v for k, v in s.results.items() if k not in ("process", "connection_ids")}
        for s in servers
    }
    meta["loadavg_after"] = loadavg()
    meta["seconds"] = time.monotonic() - started
    rows = build_rows(results)
    print()
    print(table(rows))
    print(
        "ratio: (a) gateway / baseline; (b) the median over runs of run k's gateway / run k's"
        " baseline (the servers took turns)"
    )
    if note := load_note(results):
        print(note)
    print(
        f"\nload average before {meta['loadavg_before']}, after {meta['loadavg_after']}; "
        f"{meta['seconds']:.0f} s; JSON: {args.out}"
    )
    write_json(args.out, rows, results, meta)
    return 1 if args.strict and any(r.result == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
