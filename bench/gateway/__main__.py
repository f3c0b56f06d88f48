"""`python -m bench.gateway [--quick]`: see docs/bench-gateway.md."""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.gateway import scenarios
from bench.gateway.common import ROOT, fanout_room, fanout_rooms_of, loadavg, raise_nofile, session_c_of
from bench.gateway.control import ClientPool, Controlled
from bench.gateway.frames import SOCKETIO_MARKER, STREAM_MARKER, stream_message
from bench.gateway.report import build_rows, table, write_json
from bench.gateway.stack import HOST, BenchStack
from devstack.processes import free_port

SERVERS = ("gateway", "bare-uvloop", "bare-asyncio", "socketio")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a small smoke run (about a minute)")
    p.add_argument("--servers", default=",".join(SERVERS), help="comma-separated subset of %(default)s")
    p.add_argument("--idle-sockets", type=int, default=10_000)
    p.add_argument("--fanout", default="1000,5000", help="room sizes for (b)")
    p.add_argument("--frames-per-run", type=int, default=100_000, help="(b): messages x sockets per run")
    p.add_argument("--reps", type=int, default=3, help="(b): throughput runs per room size")
    p.add_argument("--latency-reps", type=int, default=5, help="(b): single-event runs per room size")
    p.add_argument("--clients", type=int, default=4, help="client processes")
    p.add_argument("--concurrency", type=int, default=24, help="handshakes in flight per client process")
    p.add_argument("--c-sockets", type=int, default=1000)
    p.add_argument("--c-rate", type=float, default=10.0, help="(c): leaderboards/s per session")
    p.add_argument("--c-warm", type=float, default=3.0)
    p.add_argument("--c-seconds", type=float, default=15.0)
    p.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench-gateway.json")
    args = p.parse_args(argv)
    if args.quick:
        args.idle_sockets, args.fanout, args.frames_per_run = 2000, "200,1000", 20_000
        args.reps, args.latency_reps, args.c_sockets, args.c_seconds = 2, 2, 500, 5.0
    args.sizes = sorted(int(n) for n in args.fanout.split(","))
    args.server_list = [s for s in args.servers.split(",") if s]
    unknown = set(args.server_list) - set(SERVERS)
    if unknown:
        p.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    if max(args.sizes) > args.idle_sockets or args.c_sockets > max(args.sizes):
        p.error("need c-sockets <= max(fanout) <= idle-sockets")
    return args


def _messages(args: argparse.Namespace, size: int) -> int:
    return max(5, args.frames_per_run // size)


async def run_gateway(args: argparse.Namespace, stack: BenchStack, log_dir: Path) -> dict[str, Any]:
    child, port = stack.start_gateway()
    pid = child.process.pid
    pool = await ClientPool.start("gateway", HOST, port, args.clients, args.sizes, log_dir)
    results: dict[str, Any] = {}
    try:
        print(f"  gateway: {args.idle_sockets:,} idle sockets ...", flush=True)
        results["idle"] = await scenarios.idle_memory(pool, pid, args.idle_sockets, args.concurrency)
        biggest = max(args.sizes)
        await pool.all("close", keep=biggest, settle_s=2.0)
        print(f"  gateway: {biggest:,} sockets join (JOIN_SESSION -> quiz-commands -> room=enter) ...", flush=True)
        ids = await scenarios.gateway_join(stack, pool, biggest)
        await scenarios.gateway_enter(stack, pool, ids, lambda g: fanout_rooms_of(g, args.sizes), biggest)
        target = scenarios.Target("gateway", pid, STREAM_MARKER,
                                  scenarios.gateway_trigger(stack, stream_message().encode()))
        for size in args.sizes:
            print(f"  gateway: fan-out to {size:,} ...", flush=True)
            results[f"fanout_{size}"] = await scenarios.fanout(
                pool, target, fanout_room(size), size, _messages(args, size), args.reps, args.latency_reps
            )
        await pool.all("close", keep=args.c_sockets, settle_s=2.0)
        await scenarios.gateway_enter(stack, pool, ids, lambda g: [session_c_of(g)], args.c_sockets)
        print(f"  gateway: {args.c_sockets:,} sockets, leaderboards for {args.c_warm + args.c_seconds:g} s ...",
              flush=True)
        emulator_pgid = stack.children[0].process.pid
        results["cloud_run"] = await scenarios.cloud_run_load(
            stack, pool, pid, emulator_pgid, args.c_sockets, args.c_rate, args.c_warm, args.c_seconds
        )
    finally:
        await pool.stop()
        stack.stop_child(child)
    return results


async def run_baseline(args: argparse.Namespace, name: str, log_dir: Path) -> dict[str, Any]:
    kind, loop_kind, mode, marker = {
        "bare-uvloop": ("bare", "uvloop", "ws", STREAM_MARKER),
        "bare-asyncio": ("bare", "asyncio", "ws", STREAM_MARKER),
        "socketio": ("socketio", "uvloop", "sio", SOCKETIO_MARKER),
    }[name]
    port = free_port()
    server = await Controlled.start(name, "bench.gateway.servers", [kind, loop_kind, str(port)], log_dir)
    pool = await ClientPool.start(mode, HOST, port, args.clients, args.sizes, log_dir)
    results: dict[str, Any] = {}
    message = stream_message()

    async def trigger(room: str, count: int) -> None:
        await server.call("stream", timeout_s=900, room=room, count=count, message=message)

    try:
        biggest = max(args.sizes)
        if kind == "bare":
            print(f"  {name}: {args.idle_sockets:,} idle sockets ...", flush=True)
            results["idle"] = await scenarios.idle_memory(pool, server.pid, args.idle_sockets, args.concurrency)
            await pool.all("close", keep=biggest, settle_s=2.0)
        else:
            print(f"  {name}: {biggest:,} sockets ...", flush=True)
            results["connect"] = await scenarios.connect(pool, biggest, args.concurrency)
        target = scenarios.Target(name, server.pid, marker, trigger)
        for size in args.sizes:
            members = (await server.call("members", room=fanout_room(size)))["recipients"]
            if members != size:
                raise RuntimeError(f"{name}: room {fanout_room(size)} has {members} sockets, not {size}")
            print(f"  {name}: fan-out to {size:,} ...", flush=True)
            results[f"fanout_{size}"] = await scenarios.fanout(
                pool, target, fanout_room(size), size, _messages(args, size), args.reps, args.latency_reps
            )
    finally:
        await pool.stop()
        await server.stop()
    return results


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("websockets", "uvloop", "python-socketio", "python-engineio", "aiohttp",
                    "google-cloud-pubsub", "firebase-admin"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    nofile = raise_nofile()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    started = time.monotonic()
    meta: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "argv": argv,
        "versions": versions(),
        "cpus": len(__import__("os").sched_getaffinity(0)),
        "nofile": nofile,
        "loadavg_before": loadavg(),
        "logs": str(log_dir),
    }
    print(f"bench-gateway: logs in {log_dir}", flush=True)
    results: dict[str, Any] = {}
    stack = BenchStack(log_dir)
    try:
        if "gateway" in args.server_list:
            print("  starting the Pub/Sub emulator ...", flush=True)
            stack.start_emulator()
            results["gateway"] = await run_gateway(args, stack, log_dir)
        for name in args.server_list:
            if name != "gateway":
                results[name] = await run_baseline(args, name, log_dir)
    finally:
        stack.stop()
    meta["loadavg_after"] = loadavg()
    meta["seconds"] = time.monotonic() - started
    rows = build_rows(results)
    print()
    print(table(rows))
    print(f"\nload average before {meta['loadavg_before']}, after {meta['loadavg_after']}; "
          f"{meta['seconds']:.0f} s; JSON: {args.out}")
    write_json(args.out, rows, results, meta)
    return 1 if any(r.result == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
