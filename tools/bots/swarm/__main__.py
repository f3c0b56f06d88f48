"""`python -m bots.swarm`: one swarm run against the running local stack (`make run`),
its summary printed (and every measurement written with --json)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import bots.swarm
from bots.swarm.plan import GATEWAY, Plan, create_sessions, make_quiz, start_sessions
from bots.swarm.workers import Swarm


async def run_against_local_stack(args: argparse.Namespace) -> dict[str, Any]:
    from devstack.endpoints import load_endpoints

    e = load_endpoints()
    quiz = make_quiz(args.questions, args.time_limit)
    host_uid = f"swarm-host-{uuid.uuid4().hex[:8]}"
    session_ids = await create_sessions(
        e["sessions_api"].url, host_uid, quiz, args.sessions, args.players + 1
    )
    plan = Plan(
        GATEWAY,
        f"ws://{e['gateway'].address}/ws",
        f"http://127.0.0.1:{e['gateway'].port}",
        session_ids,
        args.questions,
        args.time_limit,
        args.seed,
        uuid.uuid4().hex[:8],
    )
    swarm = Swarm(plan, args.players, args.workers or max(1, -(-args.players // 500)))
    print(f"Joining {args.players} players to {args.sessions} session(s) ...", flush=True)
    swarm.start()
    try:
        await swarm.wait_joined()
        await start_sessions(e["sessions_api"].url, host_uid, session_ids)
        return await swarm.play(args.players * args.questions, show=lambda line: print(line, flush=True))
    finally:
        swarm.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bots.swarm",
        description=bots.swarm.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--time-limit", type=int, default=10, help="seconds per question")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="bot processes (default: one per 500 players)")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    args = parser.parse_args()
    raw = asyncio.run(run_against_local_stack(args))
    from bench.e2e.stats import summarise_swarm

    summary = summarise_swarm(raw)
    for name, value in summary.items():
        print(f"{name:40} {value}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "raw": raw}, indent=1))
    sys.exit(0)


if __name__ == "__main__":
    main()
