"""The swarm's bots: what they keep of each frame, and which leaderboard counts for an answer."""

from __future__ import annotations

import json
import random
from typing import Any

from bots.swarm.bot import Answer, Bot, answer_delay_s, bot_name


class Silent:
    async def send_frame(self, frame: dict[str, Any]) -> None: ...
    async def close(self) -> None: ...


def _board(version: int) -> str:
    return (
        f'{{"type":"LEADERBOARD_UPDATED","timestamp":"2030-01-01T00:00:00.{version % 1000:03d}Z",'
        f'"message_id":"m","payload":{{"session_id":"s1","version":{version},"leaderboard":['
        "not json on purpose"
    )


def test_a_bot_reads_a_leaderboards_version_without_decoding_it() -> None:
    bot = Bot(1, "s1", Silent())  # type: ignore[arg-type]
    bot.on_frame(_board(42), at=5.0)
    assert bot.boards == [(5.0, 42, "2030-01-01T00:00:00.042Z")]


def test_an_answer_counts_the_first_leaderboard_of_its_commit_window_or_later() -> None:
    bot = Bot(1, "s1", Silent())  # type: ignore[arg-type]
    answer = Answer(0, sent=10.0, message_id="m1")
    bot.answers["q0"] = bot.by_message["m1"] = answer
    score = {
        "type": "SCORE_UPDATED",
        "timestamp": "2030-01-01T00:00:00.250Z",
        "message_id": "x",
        "payload": {"question_id": "q0", "time_taken_ms": 1200},
    }
    bot.on_frame(json.dumps(score, separators=(",", ":")), at=10.1)
    commit_window = answer.score_ts_ms // 100
    for offset, at in ((-1, 10.15), (0, 10.3), (1, 10.4)):
        bot.boards.append((at, int(commit_window) + offset, "2030-01-01T00:00:00.300Z"))
    (row,) = bot.results()["answers"]
    assert row["score_at"] == 10.1
    assert row["board_at"] == 10.3


def test_answers_come_after_a_moment_and_before_the_deadline() -> None:
    rng = random.Random(1)
    delays = [answer_delay_s(rng, 8) for _ in range(2000)]
    assert min(delays) >= 0.3 and max(delays) <= 7.3
    assert 2.0 < sorted(delays)[1000] < 3.0


def test_bot_names_are_distinct_and_pass_the_name_rules() -> None:
    from vocabquiz.domain.names import clean_display_name

    names = [bot_name(n) for n in range(3000)]
    assert len(set(names)) == len(names)
    for name in names:
        clean_display_name(name)
