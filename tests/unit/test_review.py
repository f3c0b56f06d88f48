"""The review's rules on their own: what a flashcard holds, which questions count as
played, how wrong answers group, and CSV cells that cannot run as formulas."""

from __future__ import annotations

import csv
import dataclasses
import io

from vocabquiz.domain import review
from vocabquiz.domain.model import Kind, Participant, Question, Quiz, Session, Status, Timing


def _question(qid: str, accepted: str, explanation: str = "", example: str = "") -> Question:
    return Question(
        qid,
        Kind.TYPED,
        f"Write the word for {qid}.",
        (),
        (accepted,),
        explanation=explanation,
        example=example,
    )


def test_a_card_is_the_word_its_meaning_and_its_example() -> None:
    generated = _question(
        "q1", "cube", "cube: a hexahedron with six equal squares as faces.", "  A cube of ice. "
    )
    assert review.card(generated) == review.Card(
        "cube", "a hexahedron with six equal squares as faces.", "A cube of ice."
    )
    # An explanation that does not lead with the word is the meaning as written.
    assert review.card(_question("q2", "author", "An author (or writer) creates books.")).meaning == (
        "An author (or writer) creates books."
    )
    assert review.card(_question("q3", "note", "Note: a short letter.")).meaning == "a short letter."
    assert review.card(_question("q4", "ratio", "ratio: ")).meaning == "ratio:"
    # With no explanation the question says what the word means.
    assert review.card(_question("q5", "plate")) == review.Card("plate", "Write the word for q5.", "")


def _session(revealed: dict[str, bool]) -> Session:
    timings = {
        qid: Timing(i, qid, 0, 1000, revealed_at_ms=900 if done else None)
        for i, (qid, done) in enumerate(revealed.items())
    }
    return Session("ABC234", "quiz", "host", Status.ACTIVE, 10, 3, False, 0, timings=timings)


QUIZ = Quiz("quiz", "Quiz", (_question("q1", "cube"), _question("q2", "plate"), _question("q3", "author")))


def test_only_revealed_questions_are_played() -> None:
    assert review.played(_session({"q1": True, "q2": False}), QUIZ) == [(0, QUIZ.questions[0], 900)]


def test_wrong_answers_group_as_the_judge_reads_them_most_common_first() -> None:
    players = [Participant(uid, uid) for uid in "abcdef"]
    answers = [
        {"uid": "a", "question_id": "q1", "answer": "Cubes", "is_correct": False},
        {"uid": "b", "question_id": "q1", "answer": "a box", "is_correct": False},
        {"uid": "c", "question_id": "q1", "answer": "  the   BOX", "is_correct": False},
        {"uid": "d", "question_id": "q1", "answer": "cube", "is_correct": True},
        {"uid": "e", "question_id": "q1", "answer": "cubes", "is_correct": False},
        {"uid": "f", "question_id": "q1", "answer": "Box", "is_correct": False},
        {"uid": "gone", "question_id": "q1", "answer": "sphere", "is_correct": False},  # kicked
    ]
    (word,) = review.class_view(_session({"q1": True}), QUIZ, players, answers)["words"]
    assert word["wrong_answers"] == [{"answer": "a box", "count": 3}, {"answer": "Cubes", "count": 2}]
    assert (word["answered"], word["correct"], word["missed"], word["accuracy"]) == (6, 1, 5, 0.1667)


def test_csv_cells_never_start_a_formula() -> None:
    evil = _question("q1", "=cmd|' /C calc'!A0", "+SUM(A1)", "@import")
    view = review.class_view(
        _session({"q1": True}),
        Quiz("quiz", "Quiz", (evil,)),
        [Participant("a", "a")],
        [{"uid": "a", "question_id": "q1", "answer": "-2+3", "is_correct": False}],
    )
    (row,) = list(csv.DictReader(io.StringIO(review.class_csv(view))))
    assert (row["word"], row["common_wrong_answers"]) == ("'=cmd|' /C calc'!A0", "'-2+3 (1)")
    player = review.player_review(
        _session({"q1": True}), Quiz("quiz", "Quiz", (evil,)), Participant("a", "a"), []
    )
    assert list(csv.reader(io.StringIO(review.missed_csv(player)))) == [
        ["'=cmd|' /C calc'!A0", "'+SUM(A1)", "'@import"]
    ]


def test_a_late_joiner_is_held_only_to_the_questions_revealed_after_they_came() -> None:
    """q1 was revealed at 900 ms; Lee joined at 950, before q2's reveal (at 1900)."""
    session = _session({"q1": True})
    second = Timing(1, "q2", 1000, 2000, revealed_at_ms=1900)
    session = dataclasses.replace(session, timings={**session.timings, "q2": second})
    early, late = Participant("ann", "Ann", joined_at_ms=0), Participant("lee", "Lee", joined_at_ms=950)
    review_of_lee = review.player_review(session, QUIZ, late, [])
    assert (review_of_lee["played"], review_of_lee["correct"]) == (1, 0)
    assert [m["question_id"] for m in review_of_lee["missed"]] == ["q2"]
    assert review.player_review(session, QUIZ, early, [])["played"] == 2
    words = {w["question_id"]: w for w in review.class_view(session, QUIZ, [early, late], [])["words"]}
    assert (words["q1"]["players"], words["q1"]["missed"], words["q1"]["accuracy"]) == (1, 1, 0.0)
    assert (words["q2"]["players"], words["q2"]["missed"]) == (2, 2)


def test_chosen_options_group_by_the_option_and_typed_answers_as_judged() -> None:
    """ "résumé" and "resume" are two options of a choice, but one typed answer."""
    choice = Question("q1", Kind.CHOICE, "Pick", ("résumé", "resume", "cv"), ("cv",))
    typed = _question("q2", "cv")
    answers = [
        {"uid": "a", "question_id": qid, "answer": "résumé", "is_correct": False} for qid in ("q1", "q2")
    ] + [{"uid": "b", "question_id": qid, "answer": " Resume", "is_correct": False} for qid in ("q1", "q2")]
    quiz = Quiz("quiz", "Quiz", (choice, typed))
    players = [Participant("a", "a"), Participant("b", "b")]
    words = {
        w["question_id"]: w["wrong_answers"]
        for w in review.class_view(_session({"q1": True, "q2": True}), quiz, players, answers)["words"]
    }
    assert words["q1"] == [{"answer": "résumé", "count": 1}, {"answer": "Resume", "count": 1}]
    assert words["q2"] == [{"answer": "résumé", "count": 2}]


def test_a_class_with_no_players_has_no_accuracy_and_an_empty_csv_cell() -> None:
    view = review.class_view(_session({"q1": True}), QUIZ, [], [])
    assert [(w["players"], w["missed"], w["accuracy"]) for w in view["words"]] == [(0, 0, None)]
    (row,) = list(csv.DictReader(io.StringIO(review.class_csv(view))))
    assert (row["players"], row["accuracy"]) == ("0", "")
