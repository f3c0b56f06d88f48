"""Quiz files (JSON) to Quiz objects, with errors that name the offending field."""

from __future__ import annotations

from typing import Any

from quiz.model import DEFAULT_POINTS, DEFAULT_TIME_LIMIT_S, Kind, Question, Quiz


class QuizFileError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def quiz_from_dict(data: Any) -> Quiz:
    if not isinstance(data, dict):
        raise QuizFileError("$", "a quiz is a JSON object")
    quiz_id = _text(data, "id", "$")
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise QuizFileError("$.questions", "a non-empty list is required")
    parsed = tuple(_question(q, f"$.questions[{i}]") for i, q in enumerate(questions))
    ids = [q.id for q in parsed]
    if len(set(ids)) != len(ids):
        raise QuizFileError("$.questions", "question ids must be unique")
    return Quiz(quiz_id, _text(data, "title", "$"), parsed)


def _question(data: Any, where: str) -> Question:
    if not isinstance(data, dict):
        raise QuizFileError(where, "a question is a JSON object")
    try:
        kind = Kind(data.get("kind", "choice"))
    except ValueError:
        raise QuizFileError(f"{where}.kind", "must be 'choice' or 'typed'") from None
    options = data.get("options", [])
    accepted = data.get("accepted")
    if not isinstance(accepted, list) or not accepted or not all(isinstance(a, str) and a for a in accepted):
        raise QuizFileError(f"{where}.accepted", "a non-empty list of answers is required")
    if not isinstance(options, list) or not all(isinstance(o, str) and o for o in options):
        raise QuizFileError(f"{where}.options", "must be a list of strings")
    if kind is Kind.CHOICE:
        if len(options) < 2:
            raise QuizFileError(f"{where}.options", "a choice question needs at least 2 options")
        missing = [a for a in accepted if a not in options]
        if missing:
            raise QuizFileError(f"{where}.accepted", f"{missing[0]!r} is not one of the options")
    points = data.get("points", DEFAULT_POINTS)
    time_limit_s = data.get("time_limit_s", DEFAULT_TIME_LIMIT_S)
    if not isinstance(points, int) or not 1 <= points <= 1000:
        raise QuizFileError(f"{where}.points", "must be an integer 1-1000")
    if not isinstance(time_limit_s, int) or not 1 <= time_limit_s <= 600:
        raise QuizFileError(f"{where}.time_limit_s", "must be an integer 1-600")
    return Question(
        id=_text(data, "id", where),
        kind=kind,
        text=_text(data, "text", where),
        options=tuple(options),
        accepted=tuple(accepted),
        points=points,
        time_limit_s=time_limit_s,
        explanation=str(data.get("explanation", "")),
    )


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise QuizFileError(f"{where}.{key}", "a non-empty string is required")
    return value
