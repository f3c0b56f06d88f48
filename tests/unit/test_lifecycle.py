"""The session state machine: waiting -> active (open <-> revealed) -> completed."""

from __future__ import annotations

import pytest

from vocabquiz.domain import lifecycle
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Kind, Question, Quiz, Session, Status
from vocabquiz.protocol import ErrorCode

QUIZ = Quiz(
    "quiz", "Quiz", tuple(Question(f"q{i}", Kind.TYPED, "?", (), ("a",), time_limit_s=10) for i in range(2))
)
WAITING = Session("S", "quiz", "host", Status.WAITING, 10, 2, True, 0)


def test_start_opens_the_first_question_with_a_server_deadline() -> None:
    active = lifecycle.start(WAITING, QUIZ, now_ms=1_000)
    assert active.status is Status.ACTIVE
    assert active.open_question is not None
    assert (active.open_question.index, active.open_question.deadline_ms) == (0, 11_000)


def test_start_twice_is_refused() -> None:
    with pytest.raises(GameError) as refused:
        lifecycle.start(lifecycle.start(WAITING, QUIZ, 0), QUIZ, 0)
    assert refused.value.code is ErrorCode.SESSION_NOT_ACTIVE


def test_someone_else_than_the_host_is_refused() -> None:
    with pytest.raises(GameError) as refused:
        lifecycle.require_host(WAITING, "player")
    assert refused.value.code is ErrorCode.NOT_HOST


def test_host_next_reveals_first_then_opens_the_next_question() -> None:
    active = lifecycle.start(WAITING, QUIZ, 0)
    revealed = lifecycle.host_next(active, QUIZ, 5_000)
    assert revealed.open_question is None and revealed.revealed
    second = lifecycle.host_next(revealed, QUIZ, 6_000)
    assert second.open_question is not None and second.open_question.index == 1
    assert set(second.timings) == {"q0", "q1"}


def test_advancing_past_the_last_question_completes_the_session() -> None:
    last = lifecycle.host_next(lifecycle.host_next(lifecycle.start(WAITING, QUIZ, 0), QUIZ, 1), QUIZ, 2)
    done = lifecycle.host_next(lifecycle.host_next(last, QUIZ, 3), QUIZ, 4)
    assert done.status is Status.COMPLETED


def test_a_stale_timer_for_another_question_changes_nothing() -> None:
    active = lifecycle.start(WAITING, QUIZ, 0)
    assert lifecycle.reveal(active, index=1, now_ms=5) is None
    revealed = lifecycle.reveal(active, index=0, now_ms=5)
    assert revealed is not None and lifecycle.reveal(revealed, index=0, now_ms=6) is None


def test_ending_an_ended_session_is_refused() -> None:
    with pytest.raises(GameError):
        lifecycle.end(lifecycle.end(WAITING, 0), 1)


def test_reveal_records_when_so_later_answers_are_refused() -> None:
    revealed = lifecycle.host_next(lifecycle.start(WAITING, QUIZ, 0), QUIZ, 3_000)
    assert revealed.timings["q0"].revealed_at_ms == 3_000
    assert revealed.current is not None and revealed.current.revealed_at_ms == 3_000


def test_ending_mid_question_reveals_it() -> None:
    ended = lifecycle.end(lifecycle.start(WAITING, QUIZ, 0), 4_000)
    assert ended.status is Status.COMPLETED and ended.timings["q0"].revealed_at_ms == 4_000
