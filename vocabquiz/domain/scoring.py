"""Points for an answer, on server clocks only (a client's own timing is never used)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from vocabquiz.domain import judging
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import NewAnswer, Question, Timing, Verdict
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
