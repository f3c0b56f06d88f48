"""The session state machine: waiting -> active (question open <-> revealed) -> completed.

Each transition takes the current Session and returns the next one, or raises GameError;
callers persist the result in a transaction and publish the frames the frames module builds.
"""

from __future__ import annotations

import dataclasses

from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Quiz, Session, Status, Timing
from vocabquiz.protocol import ErrorCode


def require_host(session: Session, uid: str) -> None:
    if session.host_uid != uid:
        raise GameError(ErrorCode.NOT_HOST, "Only the session's host may do this")


def start(session: Session, quiz: Quiz, now_ms: int) -> Session:
    if session.status is not Status.WAITING:
        raise GameError(ErrorCode.SESSION_NOT_ACTIVE, f"Session is {session.status.value}")
    active = dataclasses.replace(session, status=Status.ACTIVE)
    return open_question(active, quiz, 0, now_ms)


def open_question(session: Session, quiz: Quiz, index: int, now_ms: int) -> Session:
    question = quiz.questions[index]
    timing = Timing(index, question.id, now_ms, now_ms + question.time_limit_s * 1000)
    return dataclasses.replace(
        session,
        current=timing,
        revealed=False,
        timings={**session.timings, question.id: timing},
    )


def reveal(session: Session, index: int, now_ms: int) -> Session | None:
    """Close question `index` now; None when it is not the open one (already revealed,
    or a late timer for a question the host has moved past). Answers received after the
    reveal are refused, though the deadline may not have passed: the answer is out."""
    current = session.open_question
    if current is None or current.index != index:
        return None
    closed = dataclasses.replace(current, revealed_at_ms=now_ms)
    return dataclasses.replace(
        session, current=closed, revealed=True, timings={**session.timings, closed.question_id: closed}
    )


def host_next(session: Session, quiz: Quiz, now_ms: int) -> Session:
    """The host's "next": reveal the open question, or open the next one after a reveal."""
    current = session.open_question
    if current is not None:
        revealed = reveal(session, current.index, now_ms)
        assert revealed is not None
        return revealed
    return advance(session, quiz, now_ms)


def advance(session: Session, quiz: Quiz, now_ms: int) -> Session:
    """Open the next question, or complete the session after the last one."""
    if session.status is not Status.ACTIVE or session.current is None:
        raise GameError(ErrorCode.SESSION_NOT_ACTIVE, f"Session is {session.status.value}")
    next_index = session.current.index + 1
    if next_index >= len(quiz.questions):
        return end(session, now_ms)
    return open_question(session, quiz, next_index, now_ms)


def end(session: Session, now_ms: int) -> Session:
    if session.status is Status.COMPLETED:
        raise GameError(ErrorCode.SESSION_NOT_ACTIVE, "Session has already ended")
    current = session.open_question
    ended = reveal(session, current.index, now_ms) if current is not None else session
    assert ended is not None
    return dataclasses.replace(ended, status=Status.COMPLETED, revealed=True)
