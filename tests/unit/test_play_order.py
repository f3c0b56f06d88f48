"""Each session plays its quiz in its own order, drawn from the session id: a second
session of a quiz is no answer sheet for the first, and every instance agrees."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

from vocabquiz.domain.ids import SESSION_CODE_ALPHABET
from vocabquiz.domain.model import Kind
from vocabquiz.domain.play_order import play_order
from vocabquiz.domain.quizfile import quiz_from_dict

QUIZ = quiz_from_dict(json.loads((Path(__file__).parents[2] / "quizzes" / "vocab-101.json").read_text()))


def _codes(count: int) -> list[str]:
    rng = random.Random(20)
    return ["".join(rng.choice(SESSION_CODE_ALPHABET) for _ in range(6)) for _ in range(count)]


def test_a_session_plays_the_same_questions_and_options_in_its_own_order() -> None:
    played = play_order(QUIZ, "ZZZZ22")
    assert sorted(q.id for q in played.questions) == [q.id for q in QUIZ.questions]
    for question in played.questions:
        original = QUIZ.question(question.id)
        assert original is not None
        # Only the options' order moves: the text, the answers and the points are the quiz's.
        assert sorted(question.options) == sorted(original.options)
        assert question == dataclasses.replace(original, options=question.options)
    assert (played.id, played.title) == (QUIZ.id, QUIZ.title)


def test_the_order_is_the_same_in_every_process_for_one_session() -> None:
    # Written out: a change to the drawing would reorder sessions already running.
    played = play_order(QUIZ, "ZZZZ22")
    assert [q.id for q in played.questions] == ["q5", "q1", "q3", "q4", "q2"]
    assert played.questions[1].options == ("meagre", "elated", "hostile", "weary")
    assert play_order(QUIZ, "ZZZZ22") == played


def test_sessions_of_one_quiz_draw_many_different_orders() -> None:
    codes = _codes(200)
    orders = {tuple(q.id for q in play_order(QUIZ, code).questions) for code in codes}
    firsts = {play_order(QUIZ, code).questions[0].id for code in codes}
    right_places = {_options_of("q1", code).index("elated") for code in codes}
    assert len(orders) > 60  # of 120; 200 draws of a fair shuffle find ~97
    assert firsts == {"q1", "q2", "q3", "q4", "q5"}
    assert right_places == {0, 1, 2, 3}  # the right option is not always "A"


def _options_of(question_id: str, code: str) -> tuple[str, ...]:
    question = play_order(QUIZ, code).question(question_id)
    assert question is not None
    return question.options


def test_a_typed_question_has_no_options_to_shuffle() -> None:
    typed = [q for q in play_order(QUIZ, "ABC234").questions if q.kind is Kind.TYPED]
    assert typed and all(q.options == () for q in typed)
