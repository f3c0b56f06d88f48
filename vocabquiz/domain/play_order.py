"""The order a session plays its quiz in: questions, and each question's options,
shuffled by the session's id, so a second session of a quiz is no answer sheet for the
first. A pure function of (quiz, session id): every instance and every replay agrees,
and nothing is stored for it beyond the quiz each session freezes anyway.

Each item's place is a stable hash (ids.stable_hash: the same in every process and
Python version, unlike `hash`) of the session id and the item, sorted. Question ids stay
the quiz's; only their positions (`index` in frames) move.
"""

from __future__ import annotations

import dataclasses

from vocabquiz.domain.ids import stable_hash
from vocabquiz.domain.model import Question, Quiz


def play_order(quiz: Quiz, session_id: str) -> Quiz:
    """`quiz` as session `session_id` plays it."""
    questions = sorted(quiz.questions, key=lambda q: stable_hash(f"{session_id}/{q.id}"))
    return dataclasses.replace(quiz, questions=tuple(_shuffled_options(q, session_id) for q in questions))


def _shuffled_options(question: Question, session_id: str) -> Question:
    # A quiz file's options are unique within their question, so the text names one.
    options = sorted(question.options, key=lambda option: stable_hash(f"{session_id}/{question.id}/{option}"))
    return dataclasses.replace(question, options=tuple(options))
