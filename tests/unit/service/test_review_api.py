"""Issue 22 through the host API in-process: each player's review of the words they
missed (JSON, CSV, Anki deck) holds their answers only; the host gets the class view and
the whole quiz's deck; nobody else gets any of it."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from typing import Any

import flask
import pytest

from tests.anki import anki_notes
from tests.unit.service.conftest import Table, as_user, frames_of
from vocabquiz.domain.review import card

WRONG = "none of these"  # wrong for every question of vocab-101
ANNS_GUESS = "anns own guess"  # Ann's alone: it must reach nobody else


def _play(table: Table) -> tuple[str, list[str]]:
    """vocab-101 stepped by its host to the end. Ann gets every question right but the
    second (a wrong answer) and the third (none); Ben answers the first wrong and no more;
    Cal is right on the first and is then kicked. The code and the question ids in play
    order."""
    game = table.game
    code = game.create_session("vocab-101", "host", 10, False).id
    for uid in ("ann", "ben", "cal"):
        table.send(uid, table.frame("JOIN_SESSION", session_id=code, username=uid.title()))
    game.start(code, "host")
    order = []
    for index in range(len(table.quiz.questions)):
        (started,) = frames_of(table.take(), "QUESTION_STARTED")
        qid = started["question"]["question_id"]
        order.append(qid)
        table.advance(1000)
        right = table.right_answer(qid)
        if index != 2:
            ann = ANNS_GUESS if index == 1 else right
            table.send("ann", table.frame("SUBMIT_ANSWER", session_id=code, question_id=qid, answer=ann))
        if index == 0:
            table.send(
                "ben",
                table.frame("SUBMIT_ANSWER", session_id=code, question_id=qid, answer=" None  OF these"),
            )
            table.send("cal", table.frame("SUBMIT_ANSWER", session_id=code, question_id=qid, answer=right))
            game.kick(code, "host", "cal")
        game.next_question(code, "host")  # reveal
        game.next_question(code, "host")  # open the next; after the last, the end
    assert game.session(code).status.value == "completed"
    return code, order


@pytest.fixture
def played(table: Table) -> tuple[str, list[str]]:
    return _play(table)


def _get(api: flask.testing.FlaskClient, path: str, uid: str) -> Any:
    return api.get(path, headers=as_user(uid))


def test_a_player_reviews_the_words_they_missed_or_skipped(
    api: flask.testing.FlaskClient, table: Table, played: tuple[str, list[str]]
) -> None:
    code, order = played
    reply = _get(api, f"/api/v1/sessions/{code.lower()}/review", "ann")
    assert reply.status_code == 200, reply.json
    review = reply.json
    assert (review["session_id"], review["username"], review["status"]) == (code, "Ann", "completed")
    assert (review["played"], review["correct"]) == (len(order), len(order) - 2)
    second, third = table.question(order[1]), table.question(order[2])
    assert [(m["index"], m["question_id"], m["outcome"], m["your_answer"]) for m in review["missed"]] == [
        (1, second.id, "wrong", ANNS_GUESS),
        (2, third.id, "skipped", None),
    ]
    missed = review["missed"][0]
    assert missed["accepted_answers"] == list(second.accepted)
    assert (missed["word"], missed["meaning"], missed["example"]) == tuple(vars_of(card(second)))
    assert missed["text"] == second.text and missed["kind"] == second.kind.value


def vars_of(c: Any) -> tuple[str, str, str]:
    return (c.word, c.meaning, c.example)


def test_a_review_holds_only_its_players_answers(
    api: flask.testing.FlaskClient, played: tuple[str, list[str]]
) -> None:
    code, order = played
    ben = _get(api, f"/api/v1/sessions/{code}/review", "ben").json
    # Ben's one answer was wrong, with his own spelling; Ann's guess on the second is not his.
    assert [(m["outcome"], m["your_answer"]) for m in ben["missed"]] == [("wrong", " None  OF these")] + [
        ("skipped", None)
    ] * (len(order) - 1)
    for path in ("", "?format=csv"):
        reply = _get(api, f"/api/v1/sessions/{code}/review{path}", "ben")
        assert ANNS_GUESS not in reply.get_data(as_text=True)


@pytest.mark.parametrize("uid", ["host", "cal", "stranger"])
def test_only_seated_players_have_a_review(
    api: flask.testing.FlaskClient, played: tuple[str, list[str]], uid: str
) -> None:
    """The host (no player), a kicked player and a stranger: 404 NOT_JOINED, for every format."""
    code, _ = played
    for path in ("", "?format=csv", "?format=apkg"):
        reply = _get(api, f"/api/v1/sessions/{code}/review{path}", uid)
        assert (reply.status_code, reply.json["error"]["code"]) == (404, "NOT_JOINED"), (uid, path)
    assert "class view" in _get(api, f"/api/v1/sessions/{code}/review", "host").json["error"]["message"]


def test_review_needs_a_token_a_session_and_a_known_format(
    api: flask.testing.FlaskClient, played: tuple[str, list[str]]
) -> None:
    code, _ = played
    assert api.get(f"/api/v1/sessions/{code}/review").status_code == 401
    assert _get(api, "/api/v1/sessions/ZZZZZZ/review", "ann").json["error"]["code"] == "INVALID_SESSION"
    bad = _get(api, f"/api/v1/sessions/{code}/review?format=pdf", "ann")
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "INVALID_MESSAGE")
    assert "csv, apkg" in bad.json["error"]["message"]


def test_the_missed_words_download_as_csv_for_flashcard_importers(
    api: flask.testing.FlaskClient, table: Table, played: tuple[str, list[str]]
) -> None:
    code, order = played
    reply = _get(api, f"/api/v1/sessions/{code}/review?format=csv", "ann")
    assert reply.mimetype == "text/csv"
    assert reply.headers["Content-Disposition"] == f'attachment; filename="missed-{code}.csv"'
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True))))
    # No header row: Quizlet and Anki would make it a card.
    assert rows == [list(vars_of(card(table.question(qid)))) for qid in order[1:3]]


def test_the_missed_words_download_as_an_anki_deck(
    api: flask.testing.FlaskClient, table: Table, played: tuple[str, list[str]]
) -> None:
    code, order = played
    reply = _get(api, f"/api/v1/sessions/{code}/review?format=apkg", "ann")
    assert reply.status_code == 200
    assert reply.headers["Content-Disposition"] == f'attachment; filename="missed-{code}.apkg"'
    words = [fields[0] for fields in anki_notes(reply.get_data())]
    assert words == [table.right_answer(qid) for qid in order[1:3]]
    right = {table.right_answer(qid) for qid in order} - set(words)
    assert right and not right & set(words)


def test_the_host_sees_the_class_word_by_word_hardest_first(
    api: flask.testing.FlaskClient, table: Table, played: tuple[str, list[str]]
) -> None:
    code, order = played
    view = _get(api, f"/api/v1/sessions/{code}/class", "host").json
    assert view["players"] == 2  # Cal was kicked: his answer no longer counts
    by_id = {w["question_id"]: w for w in view["words"]}
    first = by_id[order[0]]
    assert (first["answered"], first["correct"], first["missed"], first["accuracy"]) == (2, 1, 1, 0.5)
    # Shown as typed, but for runs of spaces.
    assert first["wrong_answers"] == [{"answer": "None OF these", "count": 1}]
    assert by_id[order[1]]["wrong_answers"] == [{"answer": ANNS_GUESS, "count": 1}]
    assert (by_id[order[2]]["answered"], by_id[order[2]]["missed"]) == (0, 2)
    # Missed by both (Ann wrong or silent, Ben silent), then by one, each in play order.
    assert [w["question_id"] for w in view["words"]] == [order[1], order[2], order[0], *order[3:]]
    assert [w["missed"] for w in view["words"]] == [2, 2, 1] + [1] * len(order[3:])


def test_the_class_csv_lists_the_most_missed_words_first(
    api: flask.testing.FlaskClient, table: Table, played: tuple[str, list[str]]
) -> None:
    code, order = played
    reply = _get(api, f"/api/v1/sessions/{code}/class?format=csv", "host")
    assert reply.headers["Content-Disposition"] == f'attachment; filename="class-{code}.csv"'
    rows = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))
    assert list(rows[0]) == [
        "word", "question", "players", "answered", "correct", "missed", "accuracy", "common_wrong_answers"
    ]  # fmt: skip
    assert [int(r["missed"]) for r in rows] == sorted((int(r["missed"]) for r in rows), reverse=True)
    first = next(r for r in rows if r["word"] == table.right_answer(order[0]))
    assert first["common_wrong_answers"] == "None OF these (1)"


@pytest.mark.parametrize("path", ["class", "class?format=csv", "deck"])
def test_only_the_host_gets_the_class_view_and_the_deck(
    api: flask.testing.FlaskClient, played: tuple[str, list[str]], path: str
) -> None:
    code, _ = played
    for uid in ("ann", "stranger"):
        reply = _get(api, f"/api/v1/sessions/{code}/{path}", uid)
        assert (reply.status_code, reply.json["error"]["code"]) == (403, "NOT_HOST")


def test_the_host_downloads_the_whole_quiz_as_a_deck(
    api: flask.testing.FlaskClient, table: Table, played: tuple[str, list[str]]
) -> None:
    code, order = played
    reply = _get(api, f"/api/v1/sessions/{code}/deck", "host")
    assert reply.headers["Content-Disposition"] == 'attachment; filename="quiz-vocab-101.apkg"'
    assert [fields for fields in anki_notes(reply.get_data())] == [
        list(vars_of(card(table.question(qid)))) for qid in order
    ]


def test_while_the_game_runs_only_revealed_questions_are_reviewed(
    api: flask.testing.FlaskClient, table: Table
) -> None:
    """The open question, and those not reached, give nothing away."""
    game = table.game
    code = game.create_session("vocab-101", "host", 10, False).id
    table.send("ann", table.frame("JOIN_SESSION", session_id=code, username="Ann"))
    game.start(code, "host")
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    first = started["question"]["question_id"]
    assert _get(api, f"/api/v1/sessions/{code}/review", "ann").json["missed"] == []
    assert _get(api, f"/api/v1/sessions/{code}/class", "host").json["words"] == []
    game.next_question(code, "host")  # reveal
    review = _get(api, f"/api/v1/sessions/{code}/review", "ann").json
    assert [(m["question_id"], m["outcome"]) for m in review["missed"]] == [(first, "skipped")]
    assert (review["played"], review["status"]) == (1, "active")


def test_a_page_on_the_web_origin_reads_a_downloads_file_name(
    api: flask.testing.FlaskClient, played: tuple[str, list[str]]
) -> None:
    """Cross-origin, a script sees Content-Disposition only when CORS exposes it."""
    code, _ = played
    headers = {**as_user("ann"), "Origin": "https://quiz.example"}
    reply = api.get(f"/api/v1/sessions/{code}/review?format=csv", headers=headers)
    assert "Content-Disposition" in reply.headers["Access-Control-Expose-Headers"]


def test_the_functions_start_without_genanki() -> None:
    """Every function's cold start imports the service; only a deck request pays for
    genanki (tens of ms to import)."""
    code = "import sys, vocabquiz.service.api, vocabquiz.service.game; print('genanki' in sys.modules)"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"
