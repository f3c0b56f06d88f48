"""Final results of a session: per player and per question, as JSON-ready rows and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from vocabquiz.domain.leaderboard import leaderboard_row, rank_participants
from vocabquiz.domain.model import Participant, Question, Quiz

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
    by_question = seated_answers(answers, participants)
    questions = [_question_row(index, q, by_question.get(q.id, [])) for index, q in enumerate(quiz.questions)]
    return {"quiz_id": quiz.id, "title": quiz.title, "players": players, "questions": questions}


def _question_row(index: int, question: Question, given: list[Mapping[str, Any]]) -> dict[str, Any]:
    answered = len(given)
    correct = sum(1 for a in given if a["is_correct"])
    total_ms = sum(int(a["time_taken_ms"]) for a in given)
    return {
        "index": index,
        "question_id": question.id,
        "text": question.text,
        "answered": answered,
        "correct": correct,
        "accuracy": round(correct / answered, 4) if answered else None,
        "average_time_ms": round(total_ms / answered) if answered else None,
    }


def seated_answers(
    answers: Iterable[Mapping[str, Any]], participants: Iterable[Participant]
) -> dict[str, list[Mapping[str, Any]]]:
    """Stored answer documents by question id, those of seated players only: a kicked
    player's answers no longer count."""
    seated = {p.uid for p in participants}
    by_question: dict[str, list[Mapping[str, Any]]] = {}
    for answer in answers:
        if answer.get("uid") in seated:
            by_question.setdefault(answer["question_id"], []).append(answer)
    return by_question


def players_csv(results: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PLAYER_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in results["players"]:
        writer.writerow({**row, "username": csv_safe(row["username"])})
    return out.getvalue()


def csv_safe(text: str) -> str:
    """A leading =, +, - or @ makes spreadsheets run the cell as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
