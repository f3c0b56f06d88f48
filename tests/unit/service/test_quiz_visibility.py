"""Who lists and hosts which quiz, through the host API on the memory twins: an upload is
its owner's and private unless they make it public; the seeded library (saved with no
owner) is public; a player of a private quiz cannot host a shadow copy to see its answers.
And every session plays its quiz in its own order."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient as Api

from tests.unit.service.conftest import Table, as_user, frames_of
from vocabquiz.domain.play_order import play_order
from vocabquiz.domain.quizfile import quiz_from_dict
from vocabquiz.protocol import ErrorCode


def _quiz_file(quiz_id: str) -> str:
    return json.dumps(
        {
            "id": quiz_id,
            "title": f"Quiz {quiz_id}",
            "questions": [
                {
                    "id": "q1",
                    "kind": "choice",
                    "text": "Big?",
                    "options": ["huge", "tiny"],
                    "accepted": ["huge"],
                },
                {"id": "q2", "kind": "typed", "text": "Cat?", "accepted": ["cat"]},
            ],
        }
    )


def _upload(api: Api, uid: str, quiz_id: str, visibility: str | None = None) -> Any:
    query = f"?visibility={visibility}" if visibility else ""
    return api.post(f"/api/v1/quizzes{query}", data=_quiz_file(quiz_id), headers=as_user(uid))


def _listed(api: Api, uid: str, page_size: int = 100) -> dict[str, dict[str, Any]]:
    """Every quiz `uid` is shown, all pages walked, by id."""
    found: dict[str, dict[str, Any]] = {}
    token = ""
    while True:
        page = api.get(f"/api/v1/quizzes?page_size={page_size}&page_token={token}", headers=as_user(uid))
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        found |= {q["quiz_id"]: q for q in body["quizzes"]}
        token = body["next_page_token"]
        if token is None:
            return found


def _create(api: Api, uid: str, quiz_id: str) -> Any:
    return api.post(
        "/api/v1/sessions", json={"quiz_id": quiz_id, "auto_advance": False}, headers=as_user(uid)
    )


def test_player_of_a_private_quiz_cannot_host_a_shadow_session_to_see_its_answers(
    table: Table, api: Api
) -> None:
    assert _upload(api, "teacher", "spelling").get_json()["public"] is False  # private by default
    code = _create(api, "teacher", "spelling").get_json()["session_id"]
    table.send("ann", table.frame("JOIN_SESSION", session_id=code, username="Ann"))
    (joined,) = frames_of(table.take(), "SESSION_JOINED", "ann")
    assert joined["quiz_id"] == "spelling"  # players learn the quiz's id...

    shadow = _create(api, "ann", joined["quiz_id"])  # ...and cannot host it themselves

    assert shadow.status_code == 403
    assert shadow.get_json()["error"] == {
        "code": ErrorCode.QUIZ_PRIVATE,
        "message": "Quiz spelling is private: only its owner may host it",
    }
    assert "spelling" not in _listed(api, "ann")
    assert _create(api, "teacher", "spelling").status_code == 201  # its owner still may


def test_host_lists_the_public_library_and_their_own_quizzes_and_no_one_elses_private_ones(
    api: Api,
) -> None:
    _upload(api, "teacher", "teachers-private")
    _upload(api, "teacher", "teachers-public", "public")
    _upload(api, "other", "others-private", "private")

    seen_by_teacher = _listed(api, "teacher")
    seen_by_stranger = _listed(api, "stranger")

    assert set(seen_by_teacher) == {"vocab-101", "teachers-private", "teachers-public"}
    assert set(seen_by_stranger) == {"vocab-101", "teachers-public"}
    flags = ("public", "library", "yours")
    assert [seen_by_teacher["vocab-101"][f] for f in flags] == [True, True, False]
    assert [seen_by_teacher["teachers-private"][f] for f in flags] == [False, False, True]
    assert [seen_by_teacher["teachers-public"][f] for f in flags] == [True, False, True]
    assert [seen_by_stranger["teachers-public"][f] for f in flags] == [True, False, False]
    assert seen_by_stranger["teachers-public"]["question_count"] == 2
    # Public is public: anyone may host it (and so see its answers), as on any quiz platform.
    assert _create(api, "stranger", "teachers-public").status_code == 201
    assert _create(api, "stranger", "vocab-101").status_code == 201


def test_owner_makes_a_quiz_private_again_by_uploading_it_as_private(api: Api) -> None:
    _upload(api, "teacher", "shared", "public")
    assert "shared" in _listed(api, "stranger")
    assert _upload(api, "teacher", "shared").status_code == 201  # private: the default
    assert "shared" not in _listed(api, "stranger")
    assert _create(api, "stranger", "shared").status_code == 403


def test_a_quiz_saved_with_no_owner_is_public_library_whatever_it_asks(table: Table, api: Api) -> None:
    # The operators' tools (seeding, the importer, the benches) save with no owner.
    table.store.save_quiz(quiz_from_dict(json.loads(_quiz_file("operators"))), public=False)

    assert _listed(api, "anyone")["operators"]["library"] is True
    assert _create(api, "anyone", "operators").status_code == 201


def test_quiz_list_comes_a_page_at_a_time_in_id_order(api: Api) -> None:
    for n in range(5):
        _upload(api, "teacher", f"mine-{n}")

    first = api.get("/api/v1/quizzes?page_size=2", headers=as_user("teacher")).get_json()
    second = api.get(
        f"/api/v1/quizzes?page_size=2&page_token={first['next_page_token']}", headers=as_user("teacher")
    ).get_json()
    everything = list(_listed(api, "teacher", page_size=2))
    one_page = api.get("/api/v1/quizzes", headers=as_user("teacher")).get_json()

    assert [q["quiz_id"] for q in first["quizzes"]] == ["mine-0", "mine-1"]
    assert [q["quiz_id"] for q in second["quizzes"]] == ["mine-2", "mine-3"]
    assert everything == ["mine-0", "mine-1", "mine-2", "mine-3", "mine-4", "vocab-101"]
    assert one_page["next_page_token"] is None and len(one_page["quizzes"]) == 6  # default 50


def test_quiz_list_refuses_a_page_size_out_of_range_or_a_made_up_token(api: Api) -> None:
    for query in ("page_size=0", "page_size=101", "page_size=ten", "page_token=../sessions"):
        refused = api.get(f"/api/v1/quizzes?{query}", headers=as_user("teacher"))
        assert (refused.status_code, refused.get_json()["error"]["code"]) == (400, ErrorCode.INVALID_MESSAGE)
    assert api.get("/api/v1/quizzes?page_size=100", headers=as_user("teacher")).status_code == 200


def test_upload_refuses_an_unknown_visibility(api: Api) -> None:
    refused = _upload(api, "teacher", "odd", "friends")
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (400, ErrorCode.INVALID_MESSAGE)
    assert "odd" not in _listed(api, "teacher")


def test_two_sessions_of_one_quiz_show_questions_and_options_in_their_own_orders(table: Table) -> None:
    game = table.game
    shown: dict[str, list[tuple[int, str, list[str]]]] = {}
    codes = [game.create_session("vocab-101", "host", 10, False).id for _ in range(12)]
    for code in codes:
        game.start(code, "host")
        shown[code] = []
        for _ in table.quiz.questions:
            (started,) = frames_of(table.take(), "QUESTION_STARTED")
            question = started["question"]
            shown[code].append((started["index"], question["question_id"], question["options"]))
            game.next_question(code, "host")  # reveal
            (ended,) = frames_of(table.take(), "QUESTION_ENDED")
            assert (ended["index"], ended["question_id"]) == (started["index"], question["question_id"])
            assert ended["accepted_answers"] == list(table.question(question["question_id"]).accepted)
            game.next_question(code, "host")  # the next, or the end after the last
        table.take()

    for code, frames in shown.items():
        played = play_order(table.quiz, code)
        assert frames == [(i, q.id, list(q.options)) for i, q in enumerate(played.questions)]
        results = game.results(code, "host")["questions"]
        assert [(q["index"], q["question_id"]) for q in results] == [
            (i, q.id) for i, q in enumerate(played.questions)
        ]
    assert len({tuple(qid for _, qid, _ in frames) for frames in shown.values()}) > 1
