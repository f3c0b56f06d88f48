"""Quiz files (JSON) to Quiz objects, with errors that name the file, line and field.

The format is QUIZ_SCHEMA (JSON Schema 2020-12; documented in docs/quiz-format.md). It is
a dict here rather than a file read at import because functions/ is deployed as the
functions' whole source tree: schemas/quiz.schema.json, outside it, is written from this
dict (`python -m quizgen.schema`) for editors and other tools. What a schema cannot say
(question ids unique, accepted answers among the options, options that judge alike) is
checked after it.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from vocabquiz.domain.judging import CHOICE, is_correct, normalize_typed
from vocabquiz.domain.model import DEFAULT_POINTS, DEFAULT_TIME_LIMIT_S, Kind, Question, Quiz
from vocabquiz.protocol.frames import JsonTooDeep, load_json

JsonPath = tuple[str | int, ...]

LEVELS = ["A1", "A2", "B1", "B2", "C1", "C2"]
MIN_OPTIONS, MAX_OPTIONS = 2, 6
MAX_QUESTIONS = 200
# Below 5 s nobody can read a question and answer it; tests wanting quick rounds use 5.
MIN_TIME_LIMIT_S, MAX_TIME_LIMIT_S = 5, 600
_NOT_BLANK = r"\S"
_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": _NOT_BLANK, "maxLength": max_length, "description": description}


def _texts(description: str, **limits: Any) -> dict[str, Any]:
    return {
        "type": "array",
        "items": _text(200, "one item"),
        "uniqueItems": True,
        "description": description,
        **limits,
    }


QUESTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "text", "accepted"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": _ID, "maxLength": 64, "description": "Unique within the quiz."},
        "kind": {
            "enum": [k.value for k in Kind],
            "description": "choice: players pick one of the options; typed: players type the answer.",
        },
        "text": _text(500, "The question as players see it."),
        "options": _texts("What players choose from (choice questions only).", maxItems=MAX_OPTIONS),
        "accepted": _texts(
            "The right answers: options for a choice question; for a typed one, answers compared "
            "forgivingly (case, accents, leading articles, one typo on 5+ letters).",
            minItems=1,
        ),
        "points": {"type": "integer", "minimum": 1, "maximum": 1000, "default": DEFAULT_POINTS},
        "time_limit_s": {
            "type": "integer",
            "minimum": MIN_TIME_LIMIT_S,
            "maximum": MAX_TIME_LIMIT_S,
            "default": DEFAULT_TIME_LIMIT_S,
        },
        "explanation": {
            "type": "string",
            "maxLength": 1000,
            "description": "Shown when the answer is revealed.",
        },
        "example": {
            "type": "string",
            "maxLength": 500,
            "description": "A sentence using the word: shown in players' reviews and decks after the game.",
        },
    },
    "if": {"properties": {"kind": {"const": Kind.CHOICE.value}}},
    "then": {"required": ["options"], "properties": {"options": {"minItems": MIN_OPTIONS}}},
    "else": {"properties": {"options": {"maxItems": 0}}},
}

QUIZ_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Vocabulary quiz",
    "description": "A quiz file of the real-time vocabulary quiz (docs/quiz-format.md).",
    "type": "object",
    "required": ["id", "title", "questions"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string", "description": "Where editors find this schema."},
        "id": {"type": "string", "pattern": _ID, "maxLength": 100, "description": "The quiz's Firestore id."},
        "title": _text(200, "What hosts see in the quiz list."),
        "description": {"type": "string", "maxLength": 1000},
        "level": {"enum": LEVELS, "description": "CEFR level of the vocabulary."},
        "tags": _texts("Free-form labels.", maxItems=20),
        "questions": {"type": "array", "minItems": 1, "maxItems": MAX_QUESTIONS, "items": QUESTION_SCHEMA},
    },
}

_VALIDATOR = Draft202012Validator(QUIZ_SCHEMA)
_TYPE_NAMES = {"string": "a string", "integer": "an integer", "array": "a list", "object": "an object"}


class QuizFileError(ValueError):
    """An invalid quiz: `field` is a JSON path ("$.questions[2].options"), empty for a
    file that is not JSON; `source`, `line` and `column` say where, when known."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        path: JsonPath = (),
        source: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.field, self.message, self.path = field, message, path
        self.source, self.line, self.column = source, line, column
        where = ":".join(str(part) for part in (source, line, column) if part not in ("", None))
        super().__init__(": ".join(part for part in (where, field, message) if part))


def load_quiz_text(text: str, source: str) -> Quiz:
    """A quiz from the text of a quiz file; `source` (its path) is named in errors."""
    try:
        # Bounded: a quiz nests 4 deep, and a few KiB of brackets would make json recurse
        # into RecursionError (and the host's upload into a 500).
        data = load_json(text)
    except JsonTooDeep as exc:
        raise QuizFileError("", f"not a quiz: {exc}", source=source) from None
    except json.JSONDecodeError as exc:
        raise QuizFileError(
            "", f"invalid JSON: {exc.msg}", source=source, line=exc.lineno, column=exc.colno
        ) from None
    try:
        return quiz_from_dict(data)
    except QuizFileError as exc:
        line = _line_of(text, exc.path)
        raise QuizFileError(exc.field, exc.message, path=exc.path, source=source, line=line) from None


def quiz_from_dict(data: Any) -> Quiz:
    error = best_match(_VALIDATOR.iter_errors(data))
    if error is not None:
        raise _schema_error(error)
    questions = data["questions"]
    _check_ids(questions)
    for i, question in enumerate(questions):
        _check_answers(question, ("questions", i))
    return Quiz(data["id"], data["title"], tuple(_question(q) for q in questions))


def _question(data: dict[str, Any]) -> Question:
    return Question(
        id=data["id"],
        kind=Kind(data["kind"]),
        text=data["text"],
        options=tuple(data.get("options", ())),
        accepted=tuple(data["accepted"]),
        points=int(data.get("points", DEFAULT_POINTS)),
        time_limit_s=int(data.get("time_limit_s", DEFAULT_TIME_LIMIT_S)),
        explanation=data.get("explanation", ""),
        example=data.get("example", ""),
    )


def _check_ids(questions: list[dict[str, Any]]) -> None:
    first: dict[str, int] = {}
    for i, question in enumerate(questions):
        earlier = first.setdefault(question["id"], i)
        if earlier != i:
            message = f"{question['id']!r} is already the id of $.questions[{earlier}]"
            raise _error(("questions", i, "id"), message)


def _check_answers(question: dict[str, Any], where: JsonPath) -> None:
    accepted: list[str] = question["accepted"]
    if question["kind"] == Kind.TYPED:
        for k, answer in enumerate(accepted):
            if not normalize_typed(answer):
                message = f"{answer!r} has no letters or digits, so no answer can match it"
                raise _error((*where, "accepted", k), message)
        return
    options: list[str] = question["options"]
    for k, option in enumerate(options):
        alike = next((o for o in options[:k] if is_correct(CHOICE, option, [o])), None)
        if alike is not None:
            raise _error((*where, "options", k), f"{option!r} and {alike!r} count as the same answer")
    for k, answer in enumerate(accepted):
        if answer not in options:
            raise _error((*where, "accepted", k), f"{answer!r} is not one of the options")


def _schema_error(error: ValidationError) -> QuizFileError:
    path: JsonPath = tuple(error.absolute_path)
    value: Any = error.validator_value
    instance: Any = error.instance
    if error.validator == "required":
        missing = next(name for name in value if name not in instance)
        return _error((*path, missing), "is required")
    if error.validator == "additionalProperties":
        schema: Any = error.schema
        extra = next(name for name in instance if name not in schema.get("properties", {}))
        return _error((*path, extra), "is not a field of the quiz format (see docs/quiz-format.md)")
    return _error(path, _describe(str(error.validator), value) or error.message)


def _describe(validator: str, value: Any) -> str | None:
    """Plain words for what the schema asked: jsonschema's messages quote whole values."""
    match validator:
        case "type":
            return f"must be {_TYPE_NAMES.get(value, value)}"
        case "pattern":
            return "must not be empty" if value == _NOT_BLANK else f"must match {value}"
        case "enum":
            return "must be one of " + ", ".join(repr(v) for v in value)
        case "minItems":
            return f"needs at least {value} item{'s' * (value != 1)}"
        case "maxItems":
            return "a typed question has no options" if value == 0 else f"takes at most {value} items"
        case "uniqueItems":
            return "has the same item twice"
        case "minimum":
            return f"must be at least {value}"
        case "maximum":
            return f"must be at most {value}"
        case "maxLength":
            return f"must be at most {value} characters"
    return None


def _error(path: JsonPath, message: str) -> QuizFileError:
    return QuizFileError(_field(path), message, path=path)


def _field(path: JsonPath) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _line_of(text: str, path: JsonPath) -> int | None:
    """The line on which the value at `path` starts in `text` (valid JSON), or that of its
    nearest enclosing value when it is missing; None if the text has no such container."""
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    for step in path:
        found = _find(text, index, step, decoder)
        if found is None:
            break
        index = found
    return text.count("\n", 0, index) + 1


def _find(text: str, index: int, step: str | int, decoder: json.JSONDecoder) -> int | None:
    """Where the member `step` (a key, or an index of a list) of the value at `index` starts."""
    opening = text[index]
    if opening not in "{[" or (opening == "{") != isinstance(step, str):
        return None
    position, count = _skip_space(text, index + 1), 0
    while text[position] not in "}]":
        if opening == "{":
            key, end = decoder.raw_decode(text, position)
            position = _skip_space(text, _skip_space(text, end) + 1)  # past the colon
        else:
            key, count = count, count + 1
        if key == step:
            return position
        _, end = decoder.raw_decode(text, position)
        position = _skip_space(text, end)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    return None


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
