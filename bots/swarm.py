"""A bot swarm: N players in S sessions play Q questions through a running stack and
measure what players feel (its own process; load from loopback only).

    python -m bots.swarm --players 200 --sessions 1 --questions 3

Per answer: answer -> own SCORE_UPDATED, answer -> first LEADERBOARD_UPDATED flushed
after it; per question: QUESTION_STARTED skew across players; per session: leaderboard
frames per second; the gateway's RSS and CPU. Prints a summary; --json writes it all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bots.client import Host, Player, sign_up_anonymously
from devstack.stack import PROJECT_ID, ROOT, load_endpoints
from protocol import parse_timestamp_ms

CORRECT_SHARE = 0.7


@dataclass
class Samples:
    to_score_ms: list[float] = field(default_factory=list)
    to_board_ms: list[float] = field(default_factory=list)
    start_skew_ms: list[float] = field(default_factory=list)
    boards_per_s: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def make_quiz(questions: int, time_limit_s: int) -> dict[str, Any]:
    return {
        "id": f"swarm-{uuid.uuid4().hex[:8]}",
        "title": "Swarm quiz",
        "questions": [
            {
                "id": f"q{i}",
                "kind": "choice",
                "text": f"Question {i}",
                "options": ["right", "wrong", "other", "none"],
                "accepted": ["right"],
                "time_limit_s": time_limit_s,
            }
            for i in range(questions)
        ],
    }


def seed(quiz: dict[str, Any], firestore_host: str) -> None:
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore_host
    sys.path.insert(0, str(ROOT / "functions"))
    from google.cloud import firestore

    from backends.store import Store
    from quiz.quizfile import quiz_from_dict

    Store(firestore.Client(project=PROJECT_ID)).save_quiz(quiz_from_dict(quiz))


async def connect_players(count: int, ws_url: str, auth_url: str, origin: str) -> list[Player]:
    limit = asyncio.Semaphore(50)

    async def one() -> Player:
        async with limit:
            uid, token = await sign_up_anonymously(auth_url)
            player = Player(ws_url, token, uid, origin=origin)
            await player.connect()
            return player

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def play_question(
    player: Player, session_id: str, index: int, rng: random.Random, spread_s: float, samples: Samples
) -> None:
    started = await player.expect("QUESTION_STARTED", index=index, timeout_s=60)
    await asyncio.sleep(rng.uniform(0.2, spread_s))
    answer = "right" if rng.random() < CORRECT_SHARE else rng.choice(["wrong", "other", "none"])
    qid = started["payload"]["question"]["question_id"]
    sent = time.monotonic()
    await player.send("SUBMIT_ANSWER", {"session_id": session_id, "question_id": qid, "answer": answer})
    try:
        score = await player.expect("SCORE_UPDATED", question_id=qid, timeout_s=30)
    except TimeoutError:
        samples.errors["no SCORE_UPDATED"] += 1
        return
    samples.to_score_ms.append((player.arrival_of(score) - sent) * 1000)
    # The first leaderboard flushed in or after the window in which the score committed.
    window = parse_timestamp_ms(score["timestamp"]) // 100
    try:
        board = await player.expect("LEADERBOARD_UPDATED", timeout_s=10)
        while board["payload"]["version"] < window:
            board = await player.expect("LEADERBOARD_UPDATED", timeout_s=10)
        samples.to_board_ms.append((player.arrival_of(board) - sent) * 1000)
    except TimeoutError:
        samples.errors["no LEADERBOARD_UPDATED"] += 1


def watch_leaderboards(
    session_id: str, ws_url: str, auth_url: str, origin: str, ready: Any, out: Any
) -> None:
    """In its own process, so a busy swarm cannot bunch up its arrival times: one socket
    in the session records when each LEADERBOARD_UPDATED arrives, until SESSION_ENDED."""

    async def watch() -> list[float]:
        uid, token = await sign_up_anonymously(auth_url)
        watcher = Player(ws_url, token, uid, origin=origin)
        await watcher.connect()
        await watcher.send("JOIN_SESSION", {"session_id": session_id, "username": f"watcher {uid[:6]}"})
        await watcher.expect("SESSION_JOINED")
        ready.set()
        await watcher.expect("SESSION_ENDED", timeout_s=600)
        await watcher.close()
        return [
            t
            for raw, t in zip(watcher.raw, watcher.arrivals, strict=True)
            if raw.startswith('{"type":"LEADERBOARD_UPDATED"')
        ]

    out.put(asyncio.run(watch()))


def gateway_usage() -> dict[str, float]:
    """RSS and CPU seconds of every local gateway process (read from /proc)."""
    usage = {"rss_mib": 0.0, "cpu_s": 0.0}
    ticks = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        try:
            if b"-m\x00gateway" not in (proc / "cmdline").read_bytes():
                continue
            status = (proc / "status").read_text()
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        usage["rss_mib"] += (
            int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024
        )
        usage["cpu_s"] += (int(stat[11]) + int(stat[12])) / ticks
    return usage


@dataclass(frozen=True)
class Plan:
    """What every worker process needs to play its slice of the players."""

    ws_url: str
    auth_url: str
    origin: str
    session_ids: list[str]
    questions: int
    spread_s: float
    seed: int


def play_slice(plan: Plan, first: int, count: int, ready: Any, go: Any, out: Any) -> None:
    """A worker process: `count` bots, from bot number `first`, in their own event loop,
    so no one process's lag is charged to the system under test."""
    out.put(asyncio.run(_play_slice(plan, first, count, ready, go)))


async def _play_slice(plan: Plan, first: int, count: int, ready: Any, go: Any) -> dict[str, Any]:
    rng = random.Random(plan.seed * 100_003 + first)
    bots = await connect_players(count, plan.ws_url, plan.auth_url, plan.origin)
    membership = {
        bot.uid: plan.session_ids[(first + i) % len(plan.session_ids)] for i, bot in enumerate(bots)
    }
    for i, bot in enumerate(bots):
        await bot.send("JOIN_SESSION", {"session_id": membership[bot.uid], "username": f"bot{first + i}"})
    await asyncio.gather(*(bot.expect("SESSION_JOINED", timeout_s=120) for bot in bots))
    ready.set()
    await asyncio.to_thread(go.wait, 600)
    samples = Samples()
    for index in range(plan.questions):
        await asyncio.gather(
            *(play_question(b, membership[b.uid], index, rng, plan.spread_s, samples) for b in bots)
        )
    await asyncio.gather(*(b.expect("SESSION_ENDED", timeout_s=120) for b in bots))
    starts = []
    for bot in bots:
        for index, raw in enumerate(bot.raw):
            if raw.startswith('{"type":"QUESTION_STARTED"'):
                # CLOCK_MONOTONIC is one clock for every process on the machine.
                starts.append(
                    (membership[bot.uid], bot.frame(index)["payload"]["index"], bot.arrivals[index])
                )
        versions = [
            bot.frame(i)["payload"]["version"]
            for i, raw in enumerate(bot.raw)
            if raw.startswith('{"type":"LEADERBOARD_UPDATED"')
        ]
        if len(versions) != len(set(versions)) or versions != sorted(versions):
            samples.errors["leaderboard versions repeated or out of order"] += 1
    await asyncio.gather(*(b.close() for b in bots))
    return {
        "to_score_ms": samples.to_score_ms,
        "to_board_ms": samples.to_board_ms,
        "starts": starts,
        "errors": dict(samples.errors),
    }


async def run(
    players: int, sessions: int, questions: int, time_limit_s: int, spread_s: float, seed_: int, workers: int
) -> dict[str, Any]:
    e = load_endpoints()
    ws_url, origin = f"ws://{e['gateway'].address}/ws", f"http://127.0.0.1:{e['gateway'].port}"
    quiz = make_quiz(questions, time_limit_s)
    seed(quiz, e["firestore"].address)
    _, host_token = await sign_up_anonymously(e["auth"].url)
    host = Host(e["sessions_api"].url, host_token)
    session_ids = [
        (await host.create_session(quiz["id"], auto_advance=True, max_participants=players + 1))["session_id"]
        for _ in range(sessions)
    ]
    plan = Plan(ws_url, e["auth"].url, origin, session_ids, questions, spread_s, seed_)
    context = multiprocessing.get_context("spawn")
    go, results_out, boards_out = context.Event(), context.Queue(), context.Queue()
    print(f"Connecting {players} players to {sessions} session(s) from {workers} process(es) ...", flush=True)
    t0 = time.monotonic()
    slices = [(w * players // workers, (w + 1) * players // workers) for w in range(workers)]
    processes, readies = [], []
    for first, end in slices:
        ready = context.Event()
        process = context.Process(target=play_slice, args=(plan, first, end - first, ready, go, results_out))
        process.start()
        processes.append(process)
        readies.append(ready)
    for ready in readies:
        if not await asyncio.to_thread(ready.wait, 300):
            raise TimeoutError("a worker did not get its players into the session")
    print(f"  joined in {time.monotonic() - t0:.1f} s", flush=True)
    watchers = []
    for session_id in session_ids:
        ready = context.Event()
        watcher = context.Process(
            target=watch_leaderboards, args=(session_id, ws_url, e["auth"].url, origin, ready, boards_out)
        )
        watcher.start()
        await asyncio.to_thread(ready.wait, 60)
        watchers.append(watcher)

    usage_before, clock_before = gateway_usage(), time.monotonic()
    go.set()
    async with httpx.AsyncClient(timeout=30) as http:
        for session_id in session_ids:
            await http.post(
                f"{host.api_url}/api/v1/sessions/{session_id}/start",
                headers={"Authorization": f"Bearer {host.token}"},
            )
    samples = Samples()
    starts: defaultdict[tuple[str, int], list[float]] = defaultdict(list)
    for done in range(workers):
        part = await asyncio.to_thread(results_out.get, True, 900)
        samples.to_score_ms += part["to_score_ms"]
        samples.to_board_ms += part["to_board_ms"]
        samples.errors.update(part["errors"])
        for session_id, index, arrived in part["starts"]:
            starts[(session_id, index)].append(arrived)
        print(f"  worker {done + 1}/{workers} done: {len(part['to_score_ms'])} answers scored", flush=True)
    usage_after, clock_after = gateway_usage(), time.monotonic()
    for process in processes:
        process.join(30)
    samples.start_skew_ms = [(max(a) - min(a)) * 1000 for a in starts.values()]
    for _ in watchers:
        arrivals = await asyncio.to_thread(boards_out.get, True, 60)
        # The most frames any one-second window of this session's leaderboards holds.
        samples.boards_per_s.append(
            max((sum(1 for t in arrivals if start <= t < start + 1) for start in arrivals), default=0)
        )
    for watcher in watchers:
        watcher.join(10)

    return {
        "players": players,
        "sessions": sessions,
        "questions": questions,
        "answers": len(samples.to_score_ms),
        "answer_to_score_ms": {q: percentile(samples.to_score_ms, q) for q in (50, 95, 99)},
        "answer_to_leaderboard_ms": {q: percentile(samples.to_board_ms, q) for q in (50, 95, 99)},
        "question_start_skew_ms": {q: percentile(samples.start_skew_ms, q) for q in (50, 99)},
        "leaderboard_frames_per_session_s_max": max(samples.boards_per_s, default=0),
        "gateway_rss_mib": usage_after["rss_mib"],
        "gateway_cpu_pct": 100
        * (usage_after["cpu_s"] - usage_before["cpu_s"])
        / (clock_after - clock_before),
        "errors": dict(samples.errors),
    }


def print_summary(s: dict[str, Any]) -> None:
    print(f"\n{s['players']} players, {s['sessions']} session(s), {s['questions']} questions")
    print(f"{s['answers']} answers scored")
    print(f"{'':34}{'p50':>8}{'p95':>8}{'p99':>8}")
    for label, key in (
        ("answer -> own SCORE_UPDATED (ms)", "answer_to_score_ms"),
        ("answer -> LEADERBOARD_UPDATED (ms)", "answer_to_leaderboard_ms"),
    ):
        p = s[key]
        print(f"{label:34}{p[50]:8.0f}{p[95]:8.0f}{p[99]:8.0f}")
    skew = s["question_start_skew_ms"]
    print(f"{'QUESTION_STARTED skew (ms)':34}{skew[50]:8.0f}{'':>8}{skew[99]:8.0f}")
    print(
        f"leaderboard frames per session in any 1 s window: max {s['leaderboard_frames_per_session_s_max']}"
    )
    print(f"gateway: RSS {s['gateway_rss_mib']:.0f} MiB, CPU {s['gateway_cpu_pct']:.0f}% of one core")
    if s["errors"]:
        print(f"errors: {s['errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--time-limit", type=int, default=10, help="seconds per question")
    parser.add_argument("--spread", type=float, default=6.0, help="answers spread over this many seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="bot processes (default: one per 250 players)")
    parser.add_argument("--json", type=Path, help="write the summary here")
    args = parser.parse_args()
    workers = args.workers or max(1, -(-args.players // 250))
    summary = asyncio.run(
        run(args.players, args.sessions, args.questions, args.time_limit, args.spread, args.seed, workers)
    )
    print_summary(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
