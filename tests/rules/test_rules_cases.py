"""The rules' edge cases beyond the matrix: each way a question closes, the grace period,
kicked players, and the queries a client might try instead of a read by id."""

from __future__ import annotations

import pytest

from tests.rules.harness import GRACE_MS, Firestore, Game, now_ms, timing

pytestmark = pytest.mark.stack


def test_participant_reads_own_answer_after_host_reveals_early_allowed(
    firestore: Firestore, game: Game
) -> None:
    # Revealed before its deadline: the host pressed "next".
    firestore.put_all({game.session: game.session_doc(revealed=True)})

    assert firestore.get(game.answer(game.player, game.open_question), game.player) == 200


def test_participant_reads_own_answer_to_question_host_moved_past_allowed(
    firestore: Firestore, game: Game
) -> None:
    # The host revealed q1 early and opened q2 at once: q1's deadline is still ahead.
    started = now_ms()
    q1, q2 = timing(0, game.closed_question, started - 1_000), timing(1, game.open_question, started)
    session = game.session_doc(current=q2, timings={game.closed_question: q1, game.open_question: q2})
    firestore.put_all({game.session: session})

    assert firestore.get(game.answer(game.player, game.closed_question), game.player) == 200


def test_participant_reads_own_answer_after_deadline_and_grace_allowed(
    firestore: Firestore, game: Game
) -> None:
    # Past deadline + grace, but the close timer has not revealed it yet.
    late = timing(1, game.open_question, now_ms() - 25_000)  # deadline 5 s ago
    session = game.session_doc(current=late, timings=game.timings | {game.open_question: late})
    firestore.put_all({game.session: session})

    assert firestore.get(game.answer(game.player, game.open_question), game.player) == 200


def test_participant_reads_own_answer_within_grace_denied(firestore: Firestore, game: Game) -> None:
    # Past the deadline by 100 ms: an answer may still be scored for another 400 ms.
    started_ms = now_ms() - 20_000 - 100
    in_grace = timing(1, game.open_question, started_ms)
    session = game.session_doc(current=in_grace, timings=game.timings | {game.open_question: in_grace})
    firestore.put_all({game.session: session})

    status = firestore.get(game.answer(game.player, game.open_question), game.player)

    if now_ms() >= in_grace["deadline_ms"] + GRACE_MS:
        pytest.skip("the machine took longer than the grace period to answer; nothing to judge")
    assert status == 403


def test_participant_reads_own_answer_after_session_completed_allowed(
    firestore: Firestore, game: Game
) -> None:
    # As lifecycle.end() leaves it: completed, the last question revealed.
    firestore.put_all({game.session: game.session_doc(status="completed", revealed=True)})

    assert firestore.get(game.answer(game.player, game.open_question), game.player) == 200


def test_participant_reads_other_players_closed_answer_denied(firestore: Firestore, game: Game) -> None:
    firestore.put_all({game.session: game.session_doc(status="completed", revealed=True)})

    assert firestore.get(game.answer(game.other_player, game.closed_question), game.player) == 403


def test_kicked_player_reads_session_and_leaderboard_denied(firestore: Firestore, game: Game) -> None:
    assert firestore.get(game.session, game.kicked) == 403
    assert firestore.get(f"{game.session}/public/leaderboard", game.kicked) == 403


def test_player_who_left_still_reads_session_allowed(firestore: Firestore, game: Game) -> None:
    firestore.update(f"{game.session}/participants/{game.player}", {"connected": False}, "owner")

    assert firestore.get(game.session, game.player) == 200


def test_host_lists_own_sessions_gets_only_theirs(firestore: Firestore, game: Game) -> None:
    status, found = firestore.query("", "sessions", game.host, where=("host_uid", game.host))

    assert (status, found) == (200, [game.session])


def test_host_lists_all_sessions_denied(firestore: Firestore, game: Game) -> None:
    assert firestore.query("", "sessions", game.host)[0] == 403


def test_participant_queries_own_participant_document_denied(firestore: Firestore, game: Game) -> None:
    status, _ = firestore.query(game.session, "participants", game.player, where=("uid", game.player))

    assert status == 403


def test_participant_queries_own_answers_denied(firestore: Firestore, game: Game) -> None:
    # Even once every question has closed: answers are read by their derived id.
    firestore.put_all({game.session: game.session_doc(status="completed", revealed=True)})

    status, _ = firestore.query(game.session, "answers", game.player, where=("uid", game.player))

    assert status == 403


@pytest.mark.parametrize("collection", ["answers", "participants", "names", "banned", "private", "public"])
def test_host_queries_collection_group_denied(firestore: Firestore, game: Game, collection: str) -> None:
    status, _ = firestore.query("", collection, game.host, all_descendants=True)

    assert status == 403


def test_signed_in_user_reads_unlisted_collection_denied(firestore: Firestore, game: Game) -> None:
    firestore.put_all({f"users/{game.player}": {"uid": game.player}})
    firestore.put_all({f"{game.session}/chat/hello": {"uid": game.player}})

    assert firestore.get(f"users/{game.player}", game.player) == 403
    assert firestore.get(f"{game.session}/chat/hello", game.host) == 403


def test_host_reads_missing_session_denied(firestore: Firestore, game: Game) -> None:
    assert firestore.get(f"sessions/{game.session_id}X", game.host) == 403


def test_player_who_knows_a_private_quizs_id_reads_neither_it_nor_its_answers_denied(
    firestore: Firestore, game: Game
) -> None:
    # SESSION_JOINED tells players the quiz id; the quiz is the host's private upload. Its
    # owner reads it through the API, like everyone: no client reads a quiz directly.
    for uid in (game.player, game.stranger, game.host):
        assert firestore.get(f"quizzes/{game.quiz_id}", uid) == 403
        assert firestore.get(f"quizzes/{game.quiz_id}/private/key", uid) == 403
        assert firestore.get(f"{game.session}/private/quiz", uid) == 403
        assert firestore.query("", "quizzes", uid, where=("owner_uid", game.host))[0] == 403
