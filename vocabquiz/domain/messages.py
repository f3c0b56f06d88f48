"""Server frames built from domain data. Frames that a redelivery may publish again get
a message_id derived from what they announce, so the gateway sends a socket each once
(gateway/repeats.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from vocabquiz.domain import judging
from vocabquiz.domain.leaderboard import TOP_N, Ranked, leaderboard_row, rank_participants
from vocabquiz.domain.model import Kind, Participant, Question, Quiz, Session, Timing, Verdict
from vocabquiz.protocol import ServerType, format_timestamp, server_frame
from vocabquiz.protocol.types import ServerFrame


def session_joined(
    session: Session,
    participant: Participant,
    participant_count: int,
    quiz: Quiz,
    *,
    your_rank: int,
    answered_current: bool,
) -> ServerFrame:
    """To a player's own connection on joining or rejoining: where they stand."""
    mine = {
        "participant_count": participant_count,
        "user_id": participant.uid,
        "username": participant.username,
        "your_score": participant.score,
        "question_count": session.question_count,
        "your_rank": your_rank,
        "answered_current": answered_current,
    }
    return server_frame(ServerType.SESSION_JOINED, _joined(session, quiz) | mine)


def host_joined(session: Session, quiz: Quiz, participants: Sequence[Participant]) -> ServerFrame:
    """To the host's connection on watching: every seated participant, ranked, each
    present or away (`connected`); `participant_count` counts those present."""
    connected = {p.uid: p.connected for p in participants}
    everyone = {
        "role": "host",
        "participant_count": sum(connected.values()),
        "question_count": session.question_count,
        "participants": [
            {"user_id": r.uid, "username": r.username, "score": r.score, "connected": connected[r.uid]}
            for r in rank_participants(participants)
        ],
    }
    return server_frame(ServerType.SESSION_JOINED, _joined(session, quiz) | everyone)


def _joined(session: Session, quiz: Quiz) -> dict[str, Any]:
    """What every SESSION_JOINED starts with: the session and its quiz."""
    return {
        "session_id": session.id,
        "quiz_id": session.quiz_id,
        "quiz_title": quiz.title,
        "status": session.status.value,
        "auto_advance": session.auto_advance,
    }


def user_joined(participant: Participant, participant_count: int) -> ServerFrame:
    return server_frame(ServerType.USER_JOINED, _presence(participant, participant_count))


def user_left(participant: Participant, participant_count: int, *, kicked: bool = False) -> ServerFrame:
    payload = _presence(participant, participant_count) | ({"kicked": True} if kicked else {})
    return server_frame(ServerType.USER_LEFT, payload)


def _presence(participant: Participant, participant_count: int) -> dict[str, Any]:
    return {
        "user_id": participant.uid,
        "username": participant.username,
        "participant_count": participant_count,
    }


def score_updated(
    answer_id: str, participant: Participant, question_id: str, verdict: Verdict
) -> ServerFrame:
    return server_frame(
        ServerType.SCORE_UPDATED,
        {
            "user_id": participant.uid,
            "question_id": question_id,
            "new_score": participant.score,
            "points_earned": verdict.points,
            "is_correct": verdict.correct,
            "time_taken_ms": verdict.time_taken_ms,
        },
        message_id=f"score-{answer_id}",
    )


def question_started(session: Session, quiz: Quiz, timing: Timing) -> ServerFrame:
    question = quiz.questions[timing.index]
    return server_frame(
        ServerType.QUESTION_STARTED,
        {
            "session_id": session.id,
            "index": timing.index,
            "count": len(quiz.questions),
            "question": question.public(),
            "started_at": format_timestamp(timing.started_at_ms),
            "deadline": format_timestamp(timing.deadline_ms),
            "deadline_ms": timing.deadline_ms,
        },
        message_id=f"qs-{session.id}-{timing.index}",
    )


def question_stats(question: Question, answers: Iterable[tuple[str, bool]]) -> dict[str, Any]:
    """Answered, correct, the distribution of (normalised) answers for one question, and
    which of them were judged correct (a typed answer within the typo allowance is, though
    it is not one of the accepted spellings)."""
    distribution: Counter[str] = Counter()
    judged_correct: set[str] = set()
    answered = correct = 0
    for text, is_correct in answers:
        answered += 1
        correct += is_correct
        key = judging.normalize_typed(text) if question.kind is Kind.TYPED else text.strip()
        distribution[key] += 1
        if is_correct:
            judged_correct.add(key)
    return {
        "answered": answered,
        "correct": correct,
        "distribution": dict(distribution),
        "correct_answers": sorted(judged_correct),
    }


def answer_stats(session: Session, timing: Timing, stats: dict[str, Any]) -> ServerFrame:
    """For the host while a question is open; superseded by QUESTION_ENDED's final stats."""
    return server_frame(
        ServerType.ANSWER_STATS,
        {"session_id": session.id, "index": timing.index, "question_id": timing.question_id, **stats},
    )


def question_ended(
    session: Session, question: Question, timing: Timing, stats: dict[str, Any]
) -> ServerFrame:
    return server_frame(
        ServerType.QUESTION_ENDED,
        {
            "session_id": session.id,
            "index": timing.index,
            "question_id": question.id,
            "accepted_answers": list(question.accepted),
            "explanation": question.explanation,
            "stats": stats,
            # Revealed before the deadline: the host closed the question early.
            "deadline_ms": timing.deadline_ms,
            "revealed_at_ms": timing.revealed_at_ms,
        },
        message_id=f"qe-{session.id}-{timing.index}",
    )


def session_ended(session: Session, ranked: list[Ranked]) -> ServerFrame:
    return server_frame(
        ServerType.SESSION_ENDED,
        {
            "session_id": session.id,
            "standings": [leaderboard_row(r) for r in ranked[:TOP_N]],
            "total_participants": len(ranked),
        },
        message_id=f"end-{session.id}",
    )
