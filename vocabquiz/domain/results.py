"""Final results of a session: per player and per question, as JSON-ready rows and CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from vocabquiz.domain.leaderboard import leaderboard_row, rank_participants
from vocabquiz.domain.model import Participant, Quiz
from vocabquiz.domain.review import csv_safe

PLAYER_COLUMNS = ("rank", "user_id", "username", "score", "correct_count", "answered_count")


def session_results(
    quiz: Quiz, participants: list[Participant], answers: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """`answers` are stored answer documents (question_id, is_correct, time_taken_ms)."""
    by_uid = {p.uid: p for p in participants}
    players = [
        leaderboard_row(r)
        | {"correct_count": by_uid[r.uid].correct_count, "answered_count": by_uid[r.uid].answered_count}
        for r in rank_participants(participants)
    ]
    answered: defaultdict[str, int] = defaultdict(int)
    correct: defaultdict[str, int] = defaultdict(int)
    total_ms: defaultdict[str, int] = defaultdict(int)
    for answer in answers:
        if answer.get("uid") not in by_uid:
            continue  # a kicked player's answers no longer count
        qid = answer["question_id"]
        answered[qid] += 1
        correct[qid] += bool(answer["is_correct"])
        total_ms[qid] += int(answer["time_taken_ms"])
    questions = [
        {
            "index": index,
            "question_id": q.id,
            "text": q.text,
            "answered": answered[q.id],
            "correct": correct[q.id],
            "accuracy": round(correct[q.id] / answered[q.id], 4) if answered[q.id] else None,
            "average_time_ms": round(total_ms[q.id] / answered[q.id]) if answered[q.id] else None,
        }
        for index, q in enumerate(quiz.questions)
    ]
    return {"quiz_id": quiz.id, "title": quiz.title, "players": players, "questions": questions}


def players_csv(results: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PLAYER_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in results["players"]:
        writer.writerow({**row, "username": csv_safe(row["username"])})
    return out.getvalue()
