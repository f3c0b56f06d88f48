"""Points for an answer, on server clocks only (a client's own timing is never used)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from vocabquiz.domain import judging
from vocabquiz.domain.errors import AlreadyAnswered, GameError
from vocabquiz.domain.model import NewAnswer, Participant, Question, Quiz, Session, Timing, Verdict
from vocabquiz.protocol import ErrorCode

T = TypeVar("T")

MAX_TIME_BONUS = 5
BONUS_STEP_MS = 2_000
# An answer the gateway received up to this long after the deadline still counts: the
# deadline is shown to players, and their frame needs time to reach us.
GRACE_MS = 500


def points_for(question: Question, correct: bool, time_taken_ms: int) -> int:
    """Base points plus max(0, 5 - floor(t / 2 s)) when correct; nothing when wrong."""
    if not correct:
        return 0
    return question.points + max(0, MAX_TIME_BONUS - time_taken_ms // BONUS_STEP_MS)


def judge_answer(question: Question, timing: Timing, answer: str, received_at_ms: int) -> Verdict:
    """The verdict for an answer the gateway received at `received_at_ms`."""
    if received_at_ms < timing.started_at_ms:
        raise GameError(ErrorCode.QUESTION_CLOSED, f"Question {question.id} is not open yet")
    revealed = timing.revealed_at_ms is not None and received_at_ms > timing.revealed_at_ms
    if revealed or received_at_ms > timing.deadline_ms + GRACE_MS:
        raise GameError(ErrorCode.QUESTION_CLOSED, f"Question {question.id} is closed")
    time_taken_ms = max(0, received_at_ms - timing.started_at_ms)
    correct = judging.is_correct(question.kind.value, answer, question.accepted)
    return Verdict(correct, points_for(question, correct, time_taken_ms), time_taken_ms)


def judge(
    session: Session,
    quiz: Quiz,
    uid: str,
    question_id: str,
    answer: str,
    received_at_ms: int,
    message_id: str,
) -> NewAnswer:
    """An answer judged against the session as read: refused for a question the quiz
    lacks (INVALID_QUESTION), or one not open when the gateway received it (QUESTION_CLOSED)."""
    question = quiz.question(question_id)
    if question is None:
        raise GameError(ErrorCode.INVALID_QUESTION, f"No question {question_id} in this quiz")
    timing = session.timings.get(question.id)
    if timing is None:
        raise GameError(ErrorCode.QUESTION_CLOSED, f"Question {question.id} has not started")
    verdict = judge_answer(question, timing, answer, received_at_ms)
    return NewAnswer(uid, question.id, answer, verdict, received_at_ms, message_id)


def require_same_message(stored_message_id: str, message_id: str) -> None:
    """An answer is stored already: the same message again (a redelivery, a resend) gets
    its stored verdict again; any other attempt is refused, as the first answer counts."""
    if stored_message_id != message_id:
        raise AlreadyAnswered()


@dataclass(frozen=True, slots=True)
class TotalsChange:
    """How an answer moves its player's totals. The store applies it as it is: in
    Firestore, as field transforms (increments and a maximum) committed with the answer."""

    points: int
    correct: int
    # The score's time for ties (`score_reached_at_ms`) becomes at least this; None: unchanged.
    reached_at_ms: int | None


def totals_change(answer: NewAnswer) -> TotalsChange:
    """Points and a correct answer add up, every answer counts as answered, and a player
    who gained points reached their new score when the gateway received the answer."""
    verdict = answer.verdict
    return TotalsChange(
        verdict.points, int(verdict.correct), answer.received_at_ms if verdict.points else None
    )


def apply_totals(participant: Participant, change: TotalsChange) -> Participant:
    reached = participant.score_reached_at_ms
    if change.reached_at_ms is not None:
        reached = max(reached, change.reached_at_ms)
    return dataclasses.replace(
        participant,
        score=participant.score + change.points,
        correct_count=participant.correct_count + change.correct,
        answered_count=participant.answered_count + 1,
        score_reached_at_ms=reached,
    )


def first_answers(items: Sequence[T], answer: Callable[[T], NewAnswer]) -> tuple[list[T], list[T]]:
    """The first answer counts, within a batch too: (the items to store, in order; the
    later attempts at a question the batch already answers, to refuse). A copy of the
    same message (a resend published twice) is neither: its first copy speaks for it."""
    kept: dict[tuple[str, str], NewAnswer] = {}
    first: list[T] = []
    repeated: list[T] = []
    for item in items:
        new = answer(item)
        earlier = kept.setdefault((new.uid, new.question_id), new)
        if earlier is new:
            first.append(item)
        elif earlier.message_id != new.message_id:
            repeated.append(item)
    return first, repeated


def one_per_player(items: Sequence[T], uid: Callable[[T], str]) -> list[list[T]]:
    """Rounds in which each player has at most one answer, in order: one commit writes
    a document once, and a player's answers need commits of their own to be told apart."""
    rounds: list[tuple[set[str], list[T]]] = []
    for item in items:
        player = uid(item)
        for players, round_ in rounds:
            if player not in players:
                players.add(player)
                round_.append(item)
                break
        else:
            rounds.append(({player}, [item]))
    return [round_ for _, round_ in rounds]
