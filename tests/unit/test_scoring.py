"""Scoring on server clocks: base points, the time bonus, the deadline and its grace."""

from __future__ import annotations

import pytest

from vocabquiz.domain import scoring
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import (
    Kind,
    NewAnswer,
    Participant,
    Question,
    Quiz,
    Session,
    Status,
    Timing,
    Verdict,
)
from vocabquiz.domain.scoring import GRACE_MS, first_answers, judge_answer, one_per_player, points_for
from vocabquiz.protocol import ErrorCode

QUESTION = Question("q1", Kind.CHOICE, "Pick", ("yes", "no"), ("yes",), points=10, time_limit_s=20)
TIMING = Timing(0, "q1", started_at_ms=1_000_000, deadline_ms=1_020_000)


@pytest.mark.parametrize(
    ("time_taken_ms", "points"),
    [(0, 15), (1_999, 15), (2_000, 14), (3_999, 14), (4_000, 13), (9_999, 11), (10_000, 10), (19_000, 10)],
)
def test_correct_answer_earns_base_plus_bonus_falling_every_two_seconds(
    time_taken_ms: int, points: int
) -> None:
    assert points_for(QUESTION, True, time_taken_ms) == points


def test_wrong_answer_earns_nothing_however_fast() -> None:
    assert points_for(QUESTION, False, 0) == 0


def test_verdict_measures_time_from_question_start_to_gateway_receipt() -> None:
    verdict = judge_answer(QUESTION, TIMING, "yes", received_at_ms=1_002_500)
    assert (verdict.correct, verdict.points, verdict.time_taken_ms) == (True, 14, 2_500)


def test_answer_within_grace_after_deadline_still_counts() -> None:
    verdict = judge_answer(QUESTION, TIMING, "yes", received_at_ms=TIMING.deadline_ms + GRACE_MS)
    assert verdict.points == 10


def test_answer_after_grace_is_refused_as_question_closed() -> None:
    with pytest.raises(GameError) as refused:
        judge_answer(QUESTION, TIMING, "yes", received_at_ms=TIMING.deadline_ms + GRACE_MS + 1)
    assert refused.value.code is ErrorCode.QUESTION_CLOSED


def test_answer_received_before_the_question_opened_is_refused() -> None:
    with pytest.raises(GameError) as refused:
        judge_answer(QUESTION, TIMING, "yes", received_at_ms=TIMING.started_at_ms - 1)
    assert refused.value.code is ErrorCode.QUESTION_CLOSED


def test_question_points_set_the_base() -> None:
    big = Question("q2", Kind.TYPED, "Spell", (), ("word",), points=20)
    assert points_for(big, True, 0) == 25


def test_answer_after_an_early_reveal_is_refused_though_the_deadline_is_far() -> None:
    revealed = Timing(0, "q1", started_at_ms=1_000_000, deadline_ms=1_020_000, revealed_at_ms=1_005_000)
    assert judge_answer(QUESTION, revealed, "yes", received_at_ms=1_004_999).points == 13
    with pytest.raises(GameError) as refused:
        judge_answer(QUESTION, revealed, "yes", received_at_ms=1_005_001)
    assert refused.value.code is ErrorCode.QUESTION_CLOSED


def _answer(uid: str, question_id: str, message_id: str) -> NewAnswer:
    return NewAnswer(uid, question_id, "yes", Verdict(True, 15, 0), 1_000_000, f"{uid}/{message_id}")


def test_batch_keeps_a_players_first_answer_and_refuses_their_second_attempt() -> None:
    first, second, other = _answer("u1", "q1", "m1"), _answer("u1", "q1", "m2"), _answer("u2", "q1", "m1")
    kept, repeated = first_answers([first, second, other], answer=lambda a: a)
    assert (kept, repeated) == ([first, other], [second])


def test_batch_drops_a_second_copy_of_the_same_message_without_refusing_it() -> None:
    copy = _answer("u1", "q1", "m1")
    kept, repeated = first_answers([copy, _answer("u1", "q1", "m1")], answer=lambda a: a)
    assert (kept, repeated) == ([copy], [])


def test_batch_rounds_hold_each_player_at_most_once_in_arrival_order() -> None:
    a1, a2, b1, a3 = (
        _answer("a", "q1", "1"),
        _answer("a", "q2", "2"),
        _answer("b", "q1", "3"),
        _answer("a", "q3", "4"),
    )
    assert one_per_player([a1, a2, b1, a3], uid=lambda a: a.uid) == [[a1, b1], [a2], [a3]]


def test_a_scored_answer_moves_the_players_totals_and_the_time_of_their_score() -> None:
    right = NewAnswer("ann", "q1", "x", Verdict(True, 14, 2500), 1_000, "ann/m1")
    wrong = NewAnswer("ann", "q2", "y", Verdict(False, 0, 900), 2_000, "ann/m2")
    before = Participant("ann", "Ann", score=10, correct_count=1, answered_count=1, score_reached_at_ms=500)
    after = scoring.apply_totals(before, scoring.totals_change(right))
    assert (after.score, after.correct_count, after.answered_count, after.score_reached_at_ms) == (
        24,
        2,
        2,
        1_000,
    )
    later = scoring.apply_totals(after, scoring.totals_change(wrong))
    assert (later.score, later.correct_count, later.answered_count, later.score_reached_at_ms) == (
        24,
        2,
        3,
        1_000,
    )


def test_a_stored_answer_is_replayed_for_the_same_message_and_refused_for_another() -> None:
    scoring.require_same_message("ann/m1", "ann/m1")
    with pytest.raises(GameError) as refused:
        scoring.require_same_message("ann/m1", "ann/m2")
    assert refused.value.code is ErrorCode.ALREADY_ANSWERED


def test_an_answer_to_a_question_the_quiz_lacks_or_not_yet_open_is_refused() -> None:
    quiz = Quiz("quiz", "Quiz", (QUESTION,))
    session = Session("S", "quiz", "host", Status.ACTIVE, 10, 1, True, 0)
    with pytest.raises(GameError) as missing:
        scoring.judge(session, quiz, "ann", "nope", "x", 10, "ann/m")
    with pytest.raises(GameError) as not_open:
        scoring.judge(session, quiz, "ann", QUESTION.id, "x", 10, "ann/m")
    assert (missing.value.code, not_open.value.code) == (
        ErrorCode.INVALID_QUESTION,
        ErrorCode.QUESTION_CLOSED,
    )
