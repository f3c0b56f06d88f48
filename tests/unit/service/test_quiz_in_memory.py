"""A whole quiz played through `Game` on the in-memory twins, in one process with no
emulator: joins, answers (a redelivery, a second attempt, one after the reveal), an early
reveal by the host, a timer's reveal at the deadline, a kick, the end and the results."""

from __future__ import annotations

import pytest

from tests.unit.service.conftest import Table, frames_of
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.scoring import GRACE_MS
from vocabquiz.protocol import ErrorCode

WRONG = "none of these"  # wrong for every question of vocab-101


def _opened(table: Table) -> str:
    """The id of the question that just opened (the session's order, not the file's)."""
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    return str(started["question"]["question_id"])


def _started_with(table: Table, *uids: str, after_ms: int = 0) -> tuple[str, str]:
    """A vocab-101 session the host steps, `uids` joined, started `after_ms` ago: its code
    and the id of the question open."""
    code = table.game.create_session("vocab-101", "host", 10, False).id
    for uid in uids:
        table.send(uid, table.frame("JOIN_SESSION", session_id=code, username=uid.title()))
    table.game.start(code, "host")
    table.advance(after_ms)
    return code, _opened(table)


def test_a_whole_quiz_is_played_on_the_memory_twins(table: Table) -> None:
    game = table.game
    session = game.create_session("vocab-101", "host", max_participants=10, auto_advance=True)
    code = session.id

    for n, (uid, name) in enumerate([("ann", "Ann"), ("ben", "Ben"), ("cal", "Cal")], start=1):
        table.send(uid, table.frame("JOIN_SESSION", session_id=code, username=name))
        events = table.take()
        (welcome,) = frames_of(events, "SESSION_JOINED", uid)
        assert (welcome["participant_count"], welcome["your_rank"], welcome["username"]) == (n, 1, name)
        assert frames_of(events, "USER_JOINED")[0]["participant_count"] == n
    table.send("dan", table.frame("JOIN_SESSION", session_id=code, username="ann"))
    assert frames_of(table.take(), "ERROR", "dan")[0]["code"] == ErrorCode.NAME_TAKEN

    game.start(code, "host")
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    # The session's first question, whichever its order put first; never with its answer.
    first = started["question"]["question_id"]
    assert started["index"] == 0 and "accepted" not in started["question"]

    # The first: Ann right after 2.5 s (10 + a bonus of 5 - 1), Ben wrong; Ann's answer
    # arrives twice (a redelivery: the same score again), then she tries again (refused).
    table.advance(2500)
    right = table.right_answer(first)
    ann_first = table.frame("SUBMIT_ANSWER", "a1", session_id=code, question_id=first, answer=right)
    table.send("ann", ann_first)
    table.send("ben", table.frame("SUBMIT_ANSWER", session_id=code, question_id=first, answer=WRONG))
    table.send("ann", ann_first)
    table.send("ann", table.frame("SUBMIT_ANSWER", session_id=code, question_id=first, answer=WRONG))
    events = table.take()
    assert [s["new_score"] for s in frames_of(events, "SCORE_UPDATED", "ann")] == [14, 14]
    assert [s["is_correct"] for s in frames_of(events, "SCORE_UPDATED", "ben")] == [False]
    assert [e["code"] for e in frames_of(events, "ERROR", "ann")] == [ErrorCode.ALREADY_ANSWERED]

    # The host reveals early; Cal's answer after the reveal is refused.
    table.advance(500)
    game.next_question(code, "host")
    (ended,) = frames_of(table.take(), "QUESTION_ENDED")
    assert (ended["index"], ended["question_id"]) == (0, first)
    assert ended["accepted_answers"] == list(table.question(first).accepted)
    assert (ended["stats"]["answered"], ended["stats"]["correct"]) == (2, 1)
    table.advance(1)
    table.send("cal", table.frame("SUBMIT_ANSWER", session_id=code, question_id=first, answer=right))
    assert frames_of(table.take(), "ERROR", "cal")[0]["code"] == ErrorCode.QUESTION_CLOSED

    # The reveal's pause passes; the timer opens the second. Cal is right after 1 s
    # (10 + 5); the deadline timer reveals it once the deadline and its grace have passed.
    table.advance(game.config.reveal_pause_ms)
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    second = started["question"]["question_id"]
    assert started["index"] == 1 and second != first
    table.advance(1000)
    table.send(
        "cal",
        table.frame("SUBMIT_ANSWER", session_id=code, question_id=second, answer=table.right_answer(second)),
    )
    assert frames_of(table.take(), "SCORE_UPDATED", "cal")[0]["new_score"] == 15
    table.advance(started["deadline_ms"] - table.clock() + GRACE_MS)
    events = table.take()
    assert [e["question_id"] for e in frames_of(events, "QUESTION_ENDED")] == [second]
    boards = frames_of(events, "LEADERBOARD_UPDATED")
    assert [(r["username"], r["rank"], r["score"]) for r in boards[-1]["leaderboard"]] == [
        ("Cal", 1, 15),
        ("Ann", 2, 14),
        ("Ben", 3, 0),
    ]
    assert table.store.leaderboard_snapshot(code) is not None

    # The host removes Ben: told KICKED, the others see him leave, and he cannot return.
    game.kick(code, "host", "ben")
    events = table.take()
    assert frames_of(events, "ERROR", "ben")[0]["code"] == ErrorCode.KICKED
    assert frames_of(events, "USER_LEFT")[0] == {
        "user_id": "ben",
        "username": "Ben",
        "participant_count": 2,
        "kicked": True,
    }
    table.send("ben", table.frame("JOIN_SESSION", session_id=code, username="Ben"))
    assert frames_of(table.take(), "ERROR", "ben")[0]["code"] == ErrorCode.KICKED

    game.end(code, "host")
    (final,) = frames_of(table.take(), "SESSION_ENDED")
    assert [(r["username"], r["rank"]) for r in final["standings"]] == [("Cal", 1), ("Ann", 2)]

    results = game.results(code, "host")
    assert [(p["username"], p["score"], p["correct_count"]) for p in results["players"]] == [
        ("Cal", 15, 1),
        ("Ann", 14, 1),
    ]
    # Per question in the order played, under the quiz's ids; Ben's answer is gone.
    played = results["questions"]
    assert [(q["index"], q["question_id"]) for q in played[:2]] == [(0, first), (1, second)]
    assert [(q["answered"], q["correct"]) for q in played] == [(1, 1), (1, 1), (0, 0), (0, 0), (0, 0)]
    with pytest.raises(GameError) as refused:
        game.results(code, "ann")
    assert refused.value.code is ErrorCode.NOT_HOST


def test_a_player_back_on_a_new_socket_is_not_marked_away_by_the_old_one(table: Table) -> None:
    code = table.game.create_session("vocab-101", "host", 10, True).id
    join = table.frame("JOIN_SESSION", session_id=code, username="Ann")
    table.send("ann", join, connection_id="old")
    table.send("ann", table.frame("REJOIN", session_id=code), connection_id="new")
    table.take()
    table.send("ann", table.frame("LEAVE_SESSION", session_id=code), connection_id="old", disconnected=True)
    assert table.take() == []
    assert table.store.participant(code, "ann").connected


def test_a_full_session_refuses_a_newcomer_but_welcomes_a_seated_player_back(table: Table) -> None:
    code = table.game.create_session("vocab-101", "host", 1, True).id
    table.send("ann", table.frame("JOIN_SESSION", session_id=code, username="Ann"))
    table.send("ben", table.frame("JOIN_SESSION", session_id=code, username="Ben"))
    assert frames_of(table.take(), "ERROR", "ben")[0]["code"] == ErrorCode.SESSION_FULL
    table.send("ann", table.frame("JOIN_SESSION", session_id=code, username="Annie"))
    (welcome,) = frames_of(table.take(), "SESSION_JOINED", "ann")
    assert (welcome["username"], welcome["participant_count"]) == ("Annie", 1)


def test_a_batch_stores_each_players_first_answer_once(table: Table) -> None:
    game = table.game
    code, first = _started_with(table, "ann", "ben", after_ms=1000)
    right = table.right_answer(first)
    answer = table.frame("SUBMIT_ANSWER", "m1", session_id=code, question_id=first, answer=right)
    batch = [
        table.command("ann", answer),
        table.command("ben", table.frame("SUBMIT_ANSWER", session_id=code, question_id=first, answer=right)),
        table.command("ann", answer),  # the same message twice in one batch: one answer
        table.command("ann", table.frame("SUBMIT_ANSWER", session_id=code, question_id=first, answer=WRONG)),
    ]
    game.handle_commands(batch)
    events = table.take()
    assert [s["new_score"] for s in frames_of(events, "SCORE_UPDATED", "ann")] == [15]
    assert [e["code"] for e in frames_of(events, "ERROR", "ann")] == [ErrorCode.ALREADY_ANSWERED]
    assert table.store.participant(code, "ann").answered_count == 1
    game.handle_commands(batch[:2])  # the whole batch delivered again: replayed, not re-scored
    assert [s["new_score"] for s in frames_of(table.take(), "SCORE_UPDATED")] == [15, 15]
    assert table.store.participant(code, "ben").score == 15


def test_an_answer_to_a_session_the_player_is_not_in_is_not_joined_whatever_the_question(
    table: Table,
) -> None:
    code, first = _started_with(table, "ann")
    later = table.store.session_quiz(code).questions[2].id
    for question in (first, later):  # open, and not yet started
        table.send("zed", table.frame("SUBMIT_ANSWER", session_id=code, question_id=question, answer=WRONG))
        assert frames_of(table.take(), "ERROR", "zed")[0]["code"] == ErrorCode.NOT_JOINED
    table.send(
        "ann",
        table.frame("SUBMIT_ANSWER", session_id=code, question_id=later, answer=table.right_answer(later)),
    )
    assert frames_of(table.take(), "ERROR", "ann")[0]["code"] == ErrorCode.QUESTION_CLOSED


def test_a_seated_players_answers_after_the_close_are_replayed_or_closed_never_not_joined(
    table: Table,
) -> None:
    game = table.game
    code, first = _started_with(table, "ann", after_ms=1000)
    answer = table.frame(
        "SUBMIT_ANSWER", "m1", session_id=code, question_id=first, answer=table.right_answer(first)
    )
    table.send("ann", answer)
    table.advance(1000)
    game.next_question(code, "host")  # the first revealed; the second not open yet
    table.advance(1)
    table.take()
    # One batch: her first answer resent after the reveal, and one to the second before it opens.
    second = table.store.session_quiz(code).questions[1].id
    not_yet = table.frame(
        "SUBMIT_ANSWER", session_id=code, question_id=second, answer=table.right_answer(second)
    )
    game.handle_commands([table.command("ann", answer), table.command("ann", not_yet)])
    events = table.take()
    assert [s["new_score"] for s in frames_of(events, "SCORE_UPDATED", "ann")] == [15]
    assert [e["code"] for e in frames_of(events, "ERROR", "ann")] == [ErrorCode.QUESTION_CLOSED]


def test_players_learn_whether_the_session_moves_on_by_itself_and_whether_a_reveal_came_early(
    table: Table,
) -> None:
    code, _ = _started_with(table, "ann", after_ms=1000)
    table.send("ann", table.frame("REJOIN", session_id=code))
    (joined,) = frames_of(table.take(), "SESSION_JOINED", "ann")
    assert joined["auto_advance"] is False
    table.game.next_question(code, "host")  # the host reveals with time left
    (ended,) = frames_of(table.take(), "QUESTION_ENDED")
    assert ended["revealed_at_ms"] < ended["deadline_ms"]
    table.game.next_question(code, "host")
    table.take()
    table.advance(60_000)  # the second question runs out
    (timed_out,) = frames_of(table.take(), "QUESTION_ENDED")
    assert timed_out["revealed_at_ms"] >= timed_out["deadline_ms"]
