"""`make demo`: a host and three bots play the seeded quiz through the running stack
(`make run`), printing what each player sees and how long each hop took."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from typing import Any

from bots.client import Host, Player, sign_up_anonymously
from devstack.endpoints import load_endpoints
from vocabquiz.protocol import parse_timestamp_ms

NAMES = ("Ada", "Grace", "Linus")


async def play(quiz_id: str, questions: int, seed: int) -> None:
    e = load_endpoints()
    ws_url, origin = f"ws://{e['gateway'].address}/ws", f"http://127.0.0.1:{e['gateway'].port}"
    rng = random.Random(seed)
    _, host_token = await sign_up_anonymously(e["auth"].url)
    host = Host(e["sessions_api"].url, host_token)
    session = await host.create_session(quiz_id, auto_advance=False, max_participants=50)
    session_id = session["session_id"]
    print(f"Session {session_id} on quiz {quiz_id!r} ({session['question_count']} questions)")

    bots = []
    for name in NAMES:
        uid, token = await sign_up_anonymously(e["auth"].url)
        bot = Player(ws_url, token, uid, origin=origin)
        await bot.connect()
        await bot.send("JOIN_SESSION", {"session_id": session_id, "username": name})
        joined = (await bot.expect("SESSION_JOINED"))["payload"]
        print(f"  {name} joined ({joined['participant_count']} in the session)")
        bots.append(bot)

    to_ack: list[float] = []
    to_score: list[float] = []
    to_board: list[float] = []
    await host.action(session_id, "start")
    for index in range(min(questions, session["question_count"])):
        started = [(await bot.expect("QUESTION_STARTED", index=index))["payload"] for bot in bots]
        question = started[0]["question"]
        print(f"\nQ{index + 1}: {question['text']}")
        for name, bot in zip(NAMES, bots, strict=True):
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            options = question["options"] or ["author", "writer", "cafe", "modern", "concise", "elated"]
            answer = rng.choice(options)
            sent = time.monotonic()
            message_id = await bot.send(
                "SUBMIT_ANSWER",
                {"session_id": session_id, "question_id": question["question_id"], "answer": answer},
            )
            await bot.expect("ACK", message_id=message_id)
            to_ack.append(time.monotonic() - sent)
            score_frame = await bot.expect("SCORE_UPDATED", question_id=question["question_id"])
            score = score_frame["payload"]
            to_score.append(time.monotonic() - sent)
            board = await _board_after(bot, score_frame)
            to_board.append(time.monotonic() - sent)
            verdict = "right" if score["is_correct"] else "wrong"
            print(
                f"  {name:6} answered {answer!r:12} -> {verdict}, +{score['points_earned']} "
                f"= {score['new_score']} (rank {board['your_rank']} of {board['total_participants']})"
            )
        await host.action(session_id, "next")
        ended = (await bots[0].expect("QUESTION_ENDED", index=index))["payload"]
        print(f"  answer: {', '.join(ended['accepted_answers'])}; stats {ended['stats']}")
        if index + 1 < min(questions, session["question_count"]):
            await host.action(session_id, "next")
    await host.action(session_id, "end")
    final = (await bots[0].expect("SESSION_ENDED"))["payload"]
    print("\nFinal standings:")
    for row in final["standings"]:
        print(f"  {row['rank']}. {row['username']:6} {row['score']}")
    await _reviews(host, bots, session_id)
    print("\nLatency seen by the bots (ms)        p50    max")
    for label, samples in (
        ("answer -> ACK (gateway publish)", to_ack),
        ("answer -> SCORE_UPDATED", to_score),
        ("answer -> LEADERBOARD_UPDATED", to_board),
    ):
        print(f"  {label:34} {statistics.median(samples) * 1000:5.0f}  {max(samples) * 1000:5.0f}")
    for bot in bots:
        await bot.close()


async def _reviews(host: Host, bots: list[Player], session_id: str) -> None:
    """What each bot should learn next (its own review), and the class's hardest word."""
    print("\nMissed words (each player's review):")
    for name, bot in zip(NAMES, bots, strict=True):
        review = (
            await Host(host.api_url, bot.token).call("GET", f"/api/v1/sessions/{session_id}/review")
        ).json()
        missed = ", ".join(f"{m['word']} ({m['your_answer'] or 'skipped'})" for m in review["missed"])
        print(f"  {name:6} {review['correct']}/{review['played']} right; to review: {missed or 'nothing'}")
    view = (await host.call("GET", f"/api/v1/sessions/{session_id}/class")).json()
    if view["words"]:
        hardest = view["words"][0]
        print(f"  Hardest for the class: {hardest['word']} ({hardest['correct']} of {view['players']} right)")


async def _board_after(bot: Player, score_frame: dict[str, Any]) -> dict[str, Any]:
    """The first leaderboard flushed after this score: its version is the 100 ms window
    in which the flush was asked for, at or after the score was published."""
    scored_window = parse_timestamp_ms(score_frame["timestamp"]) // 100 - 1
    while True:
        board = (await bot.expect("LEADERBOARD_UPDATED"))["payload"]
        if board["version"] >= scored_window:
            return dict(board)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quiz", default="vocab-101")
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(play(args.quiz, args.questions, args.seed))


if __name__ == "__main__":
    main()
