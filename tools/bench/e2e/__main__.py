"""`make bench`: a ladder of player counts through the local stack (the swarm in
tools/bots/swarm/, the functions timed by tools/bench/e2e/probe.py), each rung replayed against
the in-memory python-socketio baseline (tools/bench/e2e/baseline.py). Writes
artifacts/bench.json and PNG plots, prints the tables and the targets' verdicts.

Exits 0 whatever the verdicts unless --strict (then 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.e2e import report
from bench.e2e.stack import (
    HOP,
    INVOCATION,
    INVOKED,
    BenchStack,
    CpuSampler,
    bench_stack,
    cpu_seconds_by_group,
    cpu_seconds_of,
    rss_mib,
)
from bench.e2e.stats import (
    count_invocations,
    histogram_buckets,
    histogram_quantiles,
    in_flight,
    per_answer,
    summarise_probe,
    summarise_swarm,
)
from bench.gateway.common import CLK_TCK, machine_cpu, raise_nofile
from bots.swarm.plan import GATEWAY, SOCKETIO, Plan, create_sessions, make_quiz, start_sessions
from bots.swarm.workers import Swarm
from devstack.endpoints import ROOT
from devstack.processes import free_port, port_open

REVEAL_PAUSE_MS = 2000


def show(line: str) -> None:
    print(line, flush=True)


def _scrape(url: str) -> str:
    try:
        return httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return ""


async def play(
    plan: Plan,
    players: int,
    args: argparse.Namespace,
    start: Callable[[], Any],
    read_cpu: Callable[[], dict[str, float]],
) -> tuple[dict[str, Any], CpuSampler, float, Swarm]:
    swarm = Swarm(plan, players, args.workers or max(1, min(4, -(-players // 500))), nice=args.nice)
    began = time.monotonic()
    swarm.start()
    await swarm.wait_joined()
    join_s = time.monotonic() - began
    show(f"    {players} players joined in {join_s:.1f} s; playing {plan.questions} questions")
    sampler = CpuSampler(lambda: read_cpu() | {"bots": cpu_seconds_of(swarm.pids())})
    sampling = asyncio.create_task(sampler.run())
    try:
        await start()
        raw = await swarm.play(players * plan.questions, show)
    finally:
        sampling.cancel()
        swarm.stop()
    return raw, sampler, join_s, swarm


def _machine() -> dict[str, float]:
    return {"machine": machine_cpu()[0] / CLK_TCK}  # busy CPU-seconds, every core, every process


def _rung_result(
    system: str,
    players: int,
    sessions: int,
    raw: dict[str, Any],
    sampler: CpuSampler,
    join_s: float,
    servers: list[str],
) -> dict[str, Any]:
    mean, peak, span = sampler.summary()
    mean["bots"] = 100 * raw["bots_cpu_s"] / span  # the workers' own count: they exit before the last sample
    server_mean = sum(mean[n] for n in servers)
    server_peak = max(
        (sum(v for k, v in s.items() if k in servers) for s in _interval_pcts(sampler)), default=0.0
    )
    ours = server_mean + mean["bots"]
    return {
        "system": system,
        "players": players,
        "sessions": sessions,
        "join_s": round(join_s, 1),
        "play_s": round(span, 1),
        "summary": summarise_swarm(raw),
        "cpu_pct": {k: round(v, 1) for k, v in mean.items() if k != "machine"},
        "cpu_peak_pct": {k: round(v, 1) for k, v in peak.items() if k != "machine"},
        "server_cpu_pct": {"mean": round(server_mean, 1), "peak": round(server_peak, 1)},
        "system_cpu_s": server_mean / 100 * span,
        "machine_busy_pct": round(mean["machine"], 1),
        "others_cpu_pct": round(max(0.0, mean["machine"] - ours), 1),
    }


def _interval_pcts(sampler: CpuSampler) -> list[dict[str, float]]:
    return [
        {k: 100 * (b[k] - a[k]) / max(1e-6, tb - ta) for k in b}
        for (ta, a), (tb, b) in zip(sampler.samples, sampler.samples[1:], strict=False)
    ]


async def stack_rung(stack: BenchStack, players: int, args: argparse.Namespace) -> dict[str, Any]:
    e = stack.endpoints
    sessions = max(1, math.ceil(players / args.per_session))
    host_uid = f"bench-host-{uuid.uuid4().hex[:8]}"
    quiz = make_quiz(args.questions, args.time_limit)
    ids = await create_sessions(e["sessions_api"].url, host_uid, quiz, sessions, args.per_session + 1)
    plan = Plan(
        GATEWAY,
        f"ws://{e['gateway'].address}/ws",
        f"http://127.0.0.1:{e['gateway'].port}",
        ids,
        args.questions,
        args.time_limit,
        args.seed,
        uuid.uuid4().hex[:8],
    )
    groups = stack.groups()
    state: dict[str, Any] = {}

    async def start() -> None:
        _, state["offsets"] = stack.function_lines()
        state["metrics"] = _scrape(f"{stack.gateway_metrics.url}/metrics")
        await start_sessions(e["sessions_api"].url, host_uid, ids)

    raw, sampler, join_s, _ = await play(
        plan, players, args, start, lambda: cpu_seconds_by_group(groups) | _machine()
    )
    result = _rung_result(report.STACK, players, sessions, raw, sampler, join_s, list(groups))
    lines, _ = stack.function_lines(state["offsets"])
    hops = [line for line in lines if line["message"] == HOP]
    result["probe"] = summarise_probe(hops)
    result["in_flight"] = in_flight(hops)
    counts = count_invocations((line for line in lines if line["message"] == INVOCATION), INVOKED)
    result["invocation_counts"] = counts
    spent = sampler.spent(list(groups))  # every stack process group, no bots
    result["per_answer"] = per_answer(counts, spent, result["summary"]["answers"])
    after = _scrape(f"{stack.gateway_metrics.url}/metrics")
    result["gateway_metrics"] = {
        "gateway publish: receive -> Pub/Sub stored": histogram_quantiles(
            histogram_buckets(state["metrics"], "quiz_gateway_publish_latency_seconds"),
            histogram_buckets(after, "quiz_gateway_publish_latency_seconds"),
        ),
        "event published -> written to sockets (not leaderboards)": histogram_quantiles(
            histogram_buckets(state["metrics"], "quiz_gateway_fanout_latency_seconds"),
            histogram_buckets(after, "quiz_gateway_fanout_latency_seconds"),
        ),
    }
    result["server_rss_mib"] = round(rss_mib(groups["gateway"]), 1)
    return result


async def baseline_rung(port: int, pid: int, players: int, args: argparse.Namespace) -> dict[str, Any]:
    sessions = max(1, math.ceil(players / args.per_session))
    quiz = make_quiz(args.questions, args.time_limit)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        ids = [(await http.post("/sessions", json=quiz)).json()["session_id"] for _ in range(sessions)]
    plan = Plan(
        SOCKETIO,
        f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
        None,
        ids,
        args.questions,
        args.time_limit,
        args.seed,
        uuid.uuid4().hex[:8],
    )

    async def start() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            for session_id in ids:
                (await http.post(f"/sessions/{session_id}/start")).raise_for_status()

    raw, sampler, join_s, _ = await play(
        plan, players, args, start, lambda: {"socketio": cpu_seconds_of([pid])} | _machine()
    )
    result = _rung_result(report.SOCKETIO, players, sessions, raw, sampler, join_s, ["socketio"])
    result["server_rss_mib"] = round(rss_mib(pid), 1)
    return result


def start_baseline(log_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = (log_dir / "socketio-baseline.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.e2e.baseline", str(port), str(REVEAL_PAUSE_MS)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"the socketio baseline did not start; see {log_dir / 'socketio-baseline.log'}"
            )
        time.sleep(0.1)
    return process, port


def rung_seconds(players: int, args: argparse.Namespace, last: dict[str, Any] | None) -> float:
    """What one rung (stack and baseline) should take, to keep the ladder in budget: the
    game's own length, or the last stack rung's time scaled by players when a backlog set it."""
    play_s = args.questions * (args.time_limit + 0.5) + (args.questions - 1) * REVEAL_PAUSE_MS / 1000 + 10
    stack_s = play_s + players / 40 + 10
    if last is not None:
        stack_s = max(stack_s, (last["join_s"] + last["play_s"] + 10) * players / last["players"])
    return float(stack_s + play_s + players / 400 + 10)


async def run(args: argparse.Namespace) -> int:
    began = time.monotonic()
    raise_nofile()
    args.out.mkdir(parents=True, exist_ok=True)
    log_dir = args.out / "bench-logs"
    log_dir.mkdir(exist_ok=True)
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    show(f"Starting a local stack (logs in {log_dir}) and the socketio baseline ...")
    baseline, port = start_baseline(log_dir)
    try:
        with bench_stack(log_dir, {"REVEAL_PAUSE_MS": str(REVEAL_PAUSE_MS)}) as stack:
            show(f"  ready in {time.monotonic() - began:.0f} s")
            last: dict[str, Any] | None = None
            for players in args.ladder:
                left = args.budget_s - (time.monotonic() - began)
                if rung_seconds(players, args, last) > left:
                    notes.append(
                        f"{players:,} players skipped: it would not fit in the rest of the"
                        f" {args.budget_s:.0f} s budget"
                    )
                    show(f"  {notes[-1]}")
                    continue
                show(f"  {players:,} players, local stack:")
                results.append(last := await stack_rung(stack, players, args))
                if not args.no_baseline:
                    show(f"  {players:,} players, socketio baseline:")
                    results.append(await baseline_rung(port, baseline.pid, players, args))
                for r in results[-2:]:
                    s = r["summary"]
                    show(
                        f"    {r['system']:8} score p50/p99 {s['answer_to_score_ms']['p50']:.0f}/"
                        f"{s['answer_to_score_ms']['p99']:.0f} ms, leaderboard p50/p99 "
                        f"{s['answer_to_leaderboard_ms']['p50']:.0f}/"
                        f"{s['answer_to_leaderboard_ms']['p99']:.0f} ms, "
                        f"machine busy {r['machine_busy_pct']:.0f} % (others {r['others_cpu_pct']:.0f} %)"
                    )
                    for line in report.cost_lines(r):
                        show(f"    {'':8} {line}")
                _write(args, results, notes, began)
    finally:
        baseline.terminate()
        baseline.wait(10)
    _write(args, results, notes, began)
    from bench.e2e.plots import write_plots

    for path in write_plots(results, args.plots_dir or args.out):
        show(f"wrote {path}")
    show("\n" + report.markdown(results, notes))
    show(f"wrote {args.out / 'bench.json'} ({time.monotonic() - began:.0f} s)")
    missed = any(v["pass"] is False for v in report.verdicts(results))
    return 1 if args.strict and missed else 0


def _write(args: argparse.Namespace, results: list[dict[str, Any]], notes: list[str], began: float) -> None:
    body = {
        "ladder": args.ladder,
        "per_session": args.per_session,
        "questions": args.questions,
        "time_limit_s": args.time_limit,
        "cores": os.cpu_count(),
        "wall_s": round(time.monotonic() - began, 1),
        "results": results,
        "targets": report.verdicts(results),
        "notes": notes,
    }
    (args.out / "bench.json").write_text(json.dumps(body, indent=1, default=str))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--ladder", type=lambda s: [int(x) for x in s.split(",")], default=[100, 500, 1000, 2000]
    )
    parser.add_argument("--per-session", type=int, default=250, help="players per session")
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--time-limit", type=int, default=8, help="seconds per question")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="bot processes (default: one per 500 players, at most 4)")
    parser.add_argument("--nice", type=int, default=0, help="run the bots at this lower priority")
    parser.add_argument("--budget-s", type=float, default=840, help="skip rungs that would not fit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the socketio runs")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts")
    parser.add_argument("--plots-dir", type=Path, help="where the PNGs go (default: --out)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
