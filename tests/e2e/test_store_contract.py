"""The Store port's promises, held by both of its adapters: the Firestore store (on the
emulator) and its in-memory twin. A promise the twin broke would let the in-process
service tests pass where the deployed service fails."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable

import pytest

from vocabquiz.adapters.memory import MemoryStore
from vocabquiz.domain import scoring
from vocabquiz.domain.catalog import Visibility
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Kind, NewAnswer, Question, Quiz, Session, Verdict
from vocabquiz.domain.play_order import play_order
from vocabquiz.protocol import ErrorCode, now_ms
from vocabquiz.service import ports

QUIZ = Quiz(
    "contract",
    "Contract",
    (
        Question("q1", Kind.CHOICE, "Pick", ("yes", "no"), ("yes",)),
        Question("q2", Kind.TYPED, "Cat?", (), ("cat",)),
    ),
)


@pytest.fixture(params=["memory", pytest.param("firestore", marks=pytest.mark.stack)])
def store(request: pytest.FixtureRequest) -> ports.Store:
    if request.param == "memory":
        return MemoryStore()
    from google.cloud import firestore

    from devstack.stack import PROJECT_ID
    from vocabquiz.adapters.store import Store

    request.getfixturevalue("stack")
    return Store(firestore.Client(project=PROJECT_ID))


def _session(store: ports.Store, seats: int = 10) -> Session:
    quiz = dataclasses.replace(QUIZ, id=f"contract-{uuid.uuid4().hex[:8]}")
    store.save_quiz(quiz)
    return store.create_session(quiz, "host", seats, False, now_ms())


def _code(call: Callable[[], object]) -> ErrorCode:
    with pytest.raises(GameError) as refused:
        call()
    return refused.value.code


def _answer(uid: str, question_id: str, points: int, message: str = "m") -> NewAnswer:
    return NewAnswer(uid, question_id, "yes", Verdict(points > 0, points, 1000), now_ms(), f"{uid}/{message}")


def _attempt(uid: str, question_id: str, message: str) -> NewAnswer:
    """An answer as the batch judged it; the store's transaction judges it again."""
    return _answer(uid, question_id, 0, message)


def _open(store: ports.Store, session: Session) -> Session:
    """Started: the first question of its play order open."""
    from vocabquiz.domain import lifecycle

    quiz = store.session_quiz(session.id)
    _, after = store.transition(session.id, lambda s: lifecycle.start(s, quiz, now_ms()))
    assert after is not None
    return after


def test_store_seats_welcomes_back_and_refuses_as_admission_decides(store: ports.Store) -> None:
    session = _session(store, seats=2)
    first = store.join(session.id, "ann", "Ann", now_ms(), "c1")
    assert (first.is_new, first.participant_count, first.participant.username) == (True, 1, "Ann")
    assert _code(lambda: store.join(session.id, "ben", "Ann", now_ms())) is ErrorCode.NAME_TAKEN
    store.join(session.id, "ben", "Ben", now_ms())
    assert _code(lambda: store.join(session.id, "cal", "Cal", now_ms())) is ErrorCode.SESSION_FULL
    back = store.join(session.id, "ann", "Annie", now_ms(), "c2")
    assert (back.is_new, back.participant_count, back.participant.username) == (False, 2, "Annie")
    store.join(session.id, "ben", "Ann", now_ms())  # Ann's old name is free again
    assert _code(lambda: store.join("NOSUCH", "ann", "Ann", now_ms())) is ErrorCode.INVALID_SESSION


def test_store_kick_frees_the_seat_bans_and_shows_as_removed_since(store: ports.Store) -> None:
    session = _session(store)
    store.join(session.id, "ann", "Ann", now_ms())
    store.join(session.id, "ben", "Ben", now_ms())
    _, _, since = store.participants_changed(session.id, None)
    assert since is not None
    kicked = store.kick(session.id, "ben")
    assert kicked.username == "Ben"
    changed, removed, _ = store.participants_changed(session.id, since)
    assert "ben" in removed and "ben" not in {p.uid for p in changed}
    assert [p.uid for p in store.participants(session.id)] == ["ann"]
    assert store.seated(session.id, ["ann", "ben", "zed"]) == {"ann"}
    assert _code(lambda: store.join(session.id, "ben", "Ben", now_ms())) is ErrorCode.KICKED
    assert _code(lambda: store.kick(session.id, "ben")) is ErrorCode.NOT_JOINED


def test_store_marks_away_only_from_the_current_connection(store: ports.Store) -> None:
    session = _session(store)
    store.join(session.id, "ann", "Ann", now_ms(), "old")
    participant, count, was_connected = store.set_connected(session.id, "ann", True, "new")
    assert (participant.connected, count, was_connected) == (True, 1, True)
    assert store.disconnect(session.id, "ann", "old") is None
    away = store.disconnect(session.id, "ann", "new")
    assert away is not None and not away[0].connected
    assert store.disconnect(session.id, "ann", "new") is None


def test_store_transition_applies_a_change_or_nothing(store: ports.Store) -> None:
    session = _session(store)
    before, after = store.transition(session.id, lambda s: None)
    assert (before, after) == (session, None)
    opened = _open(store, session)
    assert store.get_session(session.id) == opened


def test_store_commits_a_batch_whole_or_refuses_it_whole(store: ports.Store) -> None:
    session = _session(store)
    for uid in ("ann", "ben"):
        store.join(session.id, uid, uid.title(), now_ms())
    totals = store.commit_answers(session.id, [_answer("ann", "q1", 15), _answer("ben", "q1", 0)])
    assert [(p.uid, p.score, p.correct_count, p.answered_count) for p in totals] == [
        ("ann", 15, 1, 1),
        ("ben", 0, 0, 1),
    ]
    with pytest.raises(ports.AnswersRefused):  # ann answered q1 already: ben's q2 is not stored either
        store.commit_answers(session.id, [_answer("ben", "q2", 12), _answer("ann", "q1", 15, "again")])
    with pytest.raises(ports.AnswersRefused):  # cal is not seated
        store.commit_answers(session.id, [_answer("cal", "q1", 15)])
    assert not store.has_answered(session.id, "ben", "q2")
    assert store.participant(session.id, "ben").answered_count == 1
    stored = store.stored_answers(session.id, [("ann", "q1"), ("ben", "q2")])
    assert list(stored) == ["ann_q1"]
    assert (stored["ann_q1"].message_id, stored["ann_q1"].score_after) == ("ann/m", 15)
    assert store.players_ahead(session.id, 0) == 1 and store.players_ahead(session.id, 15) == 0


def test_store_scores_one_answer_once_and_replays_it(store: ports.Store) -> None:
    session = _open(store, _session(store))
    store.join(session.id, "ann", "Ann", now_ms())
    store.commit_answers(session.id, [_answer("ann", "q2", 12)])

    def judge(read: Session) -> NewAnswer:
        assert read.open_question is not None
        # q1 is judged as if open, wherever the session's order put it.
        open_q1 = dataclasses.replace(read.open_question, question_id="q1")
        read = dataclasses.replace(read, timings={"q1": open_q1})
        return scoring.judge(read, QUIZ, "ann", "q1", "yes", open_q1.started_at_ms + 1000, "ann/m1")

    first = store.score_answer(session.id, _attempt("ann", "q1", "m1"), judge)
    assert (first.replayed, first.participant.score, first.verdict.points) == (False, 27, 15)
    again = store.score_answer(session.id, _attempt("ann", "q1", "m1"), judge)
    assert (again.replayed, again.participant.score, again.verdict) == (True, 27, first.verdict)
    batched = store.score_answer(session.id, _attempt("ann", "q2", "m"), judge)  # stored by a batch commit
    assert (batched.replayed, batched.participant.score) == (True, 12)
    assert (
        _code(lambda: store.score_answer(session.id, _attempt("ann", "q1", "m2"), judge))
        is ErrorCode.ALREADY_ANSWERED
    )
    assert (
        _code(lambda: store.score_answer(session.id, _attempt("zed", "q1", "m"), judge))
        is ErrorCode.NOT_JOINED
    )
    assert store.participant(session.id, "ann").answered_count == 2
    assert sorted(store.answers_to(session.id, "q1")) == [("yes", True)]


def test_store_reads_what_changed_since_a_read(store: ports.Store) -> None:
    session = _session(store)
    store.join(session.id, "ann", "Ann", now_ms())
    store.join(session.id, "ben", "Ben", now_ms())
    everyone, _, read_time = store.participants_changed(session.id, None)
    assert {p.uid for p in everyone} == {"ann", "ben"} and read_time is not None
    store.commit_answers(session.id, [_answer("ben", "q1", 15)])
    changed, removed, _ = store.participants_changed(session.id, read_time)
    assert [(p.uid, p.score) for p in changed] == [("ben", 15)] and not removed
    answers, _ = store.answers_changed(session.id, "q1", read_time)
    assert list(answers.values()) == [("yes", True)]


def test_store_freezes_each_session_quiz_in_the_play_order_of_its_code(store: ports.Store) -> None:
    quiz = Quiz(
        f"contract-{uuid.uuid4().hex[:8]}",
        "Order",
        tuple(Question(f"q{n}", Kind.CHOICE, f"Pick {n}", ("a", "b", "c", "d"), ("a",)) for n in range(8)),
    )
    store.save_quiz(quiz)
    sessions = [store.create_session(quiz, "host", 10, False, now_ms()) for _ in range(3)]
    played = [store.session_quiz(s.id) for s in sessions]
    assert played == [play_order(quiz, s.id) for s in sessions]
    assert len({tuple(q.id for q in p.questions) for p in played}) == 3  # 8! orders: three differ
    assert store.load_quiz(quiz.id) == quiz  # the quiz itself keeps its file's order


def test_store_lists_the_public_and_the_callers_own_quizzes_by_id_a_page_at_a_time(
    store: ports.Store,
) -> None:
    tag = f"contract-list-{uuid.uuid4().hex[:8]}"
    store.save_quiz(dataclasses.replace(QUIZ, id=f"{tag}-1-library"), public=False)  # no owner: library
    store.save_quiz(dataclasses.replace(QUIZ, id=f"{tag}-2-mine"), owner_uid="ann")
    store.save_quiz(dataclasses.replace(QUIZ, id=f"{tag}-3-bens"), owner_uid="ben")
    store.save_quiz(dataclasses.replace(QUIZ, id=f"{tag}-4-bens-public"), owner_uid="ben", public=True)
    store.save_quiz(dataclasses.replace(QUIZ, id=f"{tag}-5-mine-public"), owner_uid="ann", public=True)

    pages: list[list[str]] = []
    after: str | None = f"{tag}-0"  # other tests' quizzes sort before and after this test's
    while after is not None and after.startswith(tag):
        page, after = store.list_quizzes("ann", 2, after)
        pages.append([e.quiz_id.removeprefix(f"{tag}-") for e in page if e.quiz_id.startswith(tag)])
    listed = {e.quiz_id: e for e in store.list_quizzes("ann", 100, f"{tag}-0")[0]}

    # Pages of two, in id order, without ben's private quiz (then other tests' quizzes).
    assert [page for page in pages if page] == [["1-library", "2-mine"], ["4-bens-public", "5-mine-public"]]
    visibility = {k.removeprefix(f"{tag}-"): e.visibility for k, e in listed.items() if k.startswith(tag)}
    assert visibility == {
        "1-library": Visibility(None, True),
        "2-mine": Visibility("ann", False),
        "4-bens-public": Visibility("ben", True),
        "5-mine-public": Visibility("ann", True),
    }
    assert listed[f"{tag}-2-mine"].question_count == 2
    stored = store.stored_quiz(f"{tag}-3-bens")
    assert stored is not None and (stored.quiz, stored.visibility) == (
        dataclasses.replace(QUIZ, id=f"{tag}-3-bens"),
        Visibility("ben", False),
    )
    assert store.stored_quiz(f"{tag}-none") is None
    assert _code(lambda: store.save_quiz(dataclasses.replace(QUIZ, id=f"{tag}-3-bens"), "ann")) is (
        ErrorCode.QUIZ_EXISTS
    )


def test_store_counts_a_users_uses_of_a_day_up_to_the_limit(store: ports.Store) -> None:
    uid = f"quota-{uuid.uuid4().hex[:8]}"
    assert [store.use_quota(uid, "sessions", "2030-01-31", 2) for _ in range(3)] == [True, True, False]
    # Each user, action and day has a count of its own.
    assert store.use_quota(f"{uid}-other", "sessions", "2030-01-31", 2)
    assert store.use_quota(uid, "uploads", "2030-01-31", 2)
    assert store.use_quota(uid, "sessions", "2030-02-01", 2)
    assert store.use_quota(uid, "sessions", "2030-01-31", 3)  # a raised limit lets one more in
    assert not store.use_quota(uid, "sessions", "2030-01-31", 3)
    # A use given back (its request was refused after all) may be used again, once.
    store.return_quota(uid, "sessions", "2030-01-31")
    assert [store.use_quota(uid, "sessions", "2030-01-31", 3) for _ in range(2)] == [True, False]


# -- players present: seated and connected, after each join, leave, disconnect, return and
# kick; capacity counts seats, present or away.


def test_store_counts_players_present_through_leave_disconnect_return_and_kick(store: ports.Store) -> None:
    code = _session(store).id
    assert store.join(code, "ann", "Ann", now_ms(), "c-ann").participant_count == 1
    assert store.join(code, "ben", "Ben", now_ms(), "c-ben").participant_count == 2

    _, count, was_connected = store.set_connected(code, "ben", False)  # LEAVE_SESSION
    assert (count, was_connected, store.present_count(code)) == (1, True, 1)
    assert store.join(code, "cal", "Cal", now_ms(), "c-cal").participant_count == 2

    away = store.disconnect(code, "cal", "c-cal")
    assert away is not None and (away[0].connected, away[1]) == (False, 1)
    assert store.disconnect(code, "cal", "c-cal") is None  # away already: nothing to count

    _, count, was_connected = store.set_connected(code, "cal", True, "c-cal-2")  # REJOIN
    assert (count, was_connected) == (2, False)
    assert store.join(code, "ben", "Ben", now_ms(), "c-ben-2").participant_count == 3  # JOIN again

    store.kick(code, "ann")
    assert store.present_count(code) == 2
    store.set_connected(code, "ben", False)
    store.kick(code, "ben")  # away already
    assert store.present_count(code) == 1
    assert {p.uid: p.connected for p in store.participants(code)} == {"cal": True}


def test_store_capacity_counts_seats_present_or_away(store: ports.Store) -> None:
    code = _session(store, seats=2).id
    store.join(code, "ann", "Ann", now_ms(), "c-ann")
    store.join(code, "ben", "Ben", now_ms(), "c-ben")
    store.set_connected(code, "ben", False)
    with pytest.raises(GameError) as refused:
        store.join(code, "cal", "Cal", now_ms(), "c-cal")
    assert refused.value.code is ErrorCode.SESSION_FULL
    assert store.join(code, "ben", "Ben", now_ms(), "c-ben-2").participant_count == 2
    assert {p.uid: p.connected for p in store.participants(code)} == {"ann": True, "ben": True}
