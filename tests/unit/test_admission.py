"""Who may take a seat, under which name: the admission rules, without I/O."""

from __future__ import annotations

import pytest

from vocabquiz.domain import admission
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Participant, Session, Status
from vocabquiz.protocol import ErrorCode


def _session(status: Status = Status.WAITING) -> Session:
    return Session("ABC123", "quiz", "host", status, 2, 5, True, 0)


def _refused(**kwargs: object) -> ErrorCode:
    arguments: dict[str, object] = {"banned": False, "seated": None, "name_owner": None} | kwargs
    session = arguments.pop("session", _session())
    with pytest.raises(GameError) as refused:
        admission.admit(session, "ann", "Ann", 5, **arguments)  # type: ignore[arg-type]
    return refused.value.code


def test_newcomer_is_seated_connected_with_the_time_they_joined() -> None:
    seated = admission.admit(
        _session(Status.ACTIVE), "ann", "Ann", 5, banned=False, seated=None, name_owner=None
    )
    assert seated == Participant("ann", "Ann", joined_at_ms=5, connected=True)


def test_seated_player_comes_back_with_their_score_under_the_new_name() -> None:
    before = Participant("ann", "Annie", score=30, connected=False)
    back = admission.admit(_session(), "ann", "Ann", 9, banned=False, seated=before, name_owner="ann")
    assert (back.username, back.score, back.connected, back.joined_at_ms) == ("Ann", 30, True, 0)


def test_a_completed_session_a_kicked_player_and_a_taken_name_are_refused() -> None:
    assert _refused(session=_session(Status.COMPLETED)) is ErrorCode.SESSION_NOT_ACTIVE
    assert _refused(banned=True) is ErrorCode.KICKED
    assert _refused(name_owner="ben") is ErrorCode.NAME_TAKEN


def test_a_newcomer_needs_a_free_seat() -> None:
    admission.check_capacity(1, 2)
    with pytest.raises(GameError) as refused:
        admission.check_capacity(2, 2)
    assert refused.value.code is ErrorCode.SESSION_FULL


def test_after_an_overflow_the_earliest_seated_keep_their_seats() -> None:
    assert admission.keeps_seat("ann", ["ann", "ben"], seated_count=3, max_participants=2)
    assert not admission.keeps_seat("cal", ["ann", "ben"], seated_count=3, max_participants=2)
    assert admission.keeps_seat("cal", [], seated_count=2, max_participants=2)
    assert admission.shown_count(3, 2) == 2


def test_an_unacceptable_name_is_refused_as_invalid_name_saying_why() -> None:
    with pytest.raises(GameError) as refused:
        admission.display_name("   ")
    assert refused.value.code is ErrorCode.INVALID_NAME and refused.value.message
    assert admission.display_name("  Ann  ") == "Ann"
