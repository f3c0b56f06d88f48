"""Quiz files: what the loader accepts, and errors naming the file, line and field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from quizgen.schema import SCHEMA_FILE, render_schema
from vocabquiz.domain.model import DEFAULT_POINTS, DEFAULT_TIME_LIMIT_S, Kind
from vocabquiz.domain.quizfile import QUIZ_SCHEMA, QuizFileError, load_quiz_text, quiz_from_dict

SOURCE = "quizzes/x.json"


def a_quiz() -> dict[str, Any]:
    return {
        "id": "colours-1",
        "title": "Colours",
        "level": "A1",
        "tags": ["colours"],
        "questions": [
            {
                "id": "q1",
                "kind": "choice",
                "text": "Which is red?",
                "options": ["red", "blue"],
                "accepted": ["red"],
            },
            {
                "id": "q2",
                "kind": "typed",
                "text": "The colour of grass?",
                "accepted": ["green"],
                "points": 20,
            },
            {
                "id": "q3",
                "kind": "choice",
                "text": "Sky?",
                "options": ["pink", "blue", "grey"],
                "accepted": ["blue"],
            },
        ],
    }


def load(data: dict[str, Any]) -> QuizFileError:
    """Load the quiz as a file (indented, one key per line) and return the error raised."""
    with pytest.raises(QuizFileError) as raised:
        load_quiz_text(json.dumps(data, indent=2), SOURCE)
    return raised.value


def test_loader_reads_a_valid_file_with_defaults_applied() -> None:
    quiz = load_quiz_text(json.dumps(a_quiz()), SOURCE)
    assert [q.id for q in quiz.questions] == ["q1", "q2", "q3"]
    assert quiz.questions[1].kind is Kind.TYPED and quiz.questions[1].options == ()
    assert (quiz.questions[0].points, quiz.questions[0].time_limit_s) == (
        DEFAULT_POINTS,
        DEFAULT_TIME_LIMIT_S,
    )
    assert quiz.questions[1].points == 20


def test_loader_rejects_a_missing_field_naming_it_and_its_line() -> None:
    data = a_quiz()
    del data["questions"][1]["text"]
    error = load(data)
    lines = json.dumps(data, indent=2).splitlines()
    opening = next(n for n, line in enumerate(lines, start=1) if '"id": "q2"' in line) - 1  # its "{"
    assert error.field == "$.questions[1].text"
    assert str(error) == f"{SOURCE}:{opening}: $.questions[1].text: is required"


def test_loader_rejects_a_missing_quiz_title() -> None:
    data = a_quiz()
    del data["title"]
    assert str(load(data)) == f"{SOURCE}:1: $.title: is required"


def test_loader_rejects_a_wrong_type_naming_the_field() -> None:
    data = a_quiz()
    data["questions"][2]["time_limit_s"] = "30"
    error = load(data)
    lines = json.dumps(data, indent=2).splitlines()
    assert error.line == next(n for n, line in enumerate(lines, start=1) if '"time_limit_s": "30"' in line)
    assert error.field == "$.questions[2].time_limit_s"
    assert "must be an integer" in str(error)


def test_loader_rejects_an_accepted_answer_that_is_not_an_option() -> None:
    data = a_quiz()
    data["questions"][2]["accepted"] = ["azure"]
    error = load(data)
    assert error.field == "$.questions[2].accepted[0]"
    assert "'azure' is not one of the options" in str(error)


def test_loader_rejects_duplicate_question_ids() -> None:
    data = a_quiz()
    data["questions"][2]["id"] = "q1"
    error = load(data)
    assert error.field == "$.questions[2].id"
    assert "already the id of $.questions[0]" in str(error)


def test_loader_reports_bad_json_with_line_and_column() -> None:
    text = '{\n  "id": "x",\n  "title": "T"\n  "questions": []\n}\n'
    with pytest.raises(QuizFileError) as raised:
        load_quiz_text(text, SOURCE)
    assert (raised.value.line, raised.value.column) == (4, 3)
    assert str(raised.value).startswith(f"{SOURCE}:4:3: invalid JSON")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda q: q["questions"][0].update(options=["red"]), "$.questions[0].options", "at least 2"),
        (
            lambda q: q["questions"][0].update(options=list("abcdefg"), accepted=["a"]),
            "$.questions[0].options",
            "at most 6",
        ),
        (
            lambda q: q["questions"][0].update(options=["red", "red"]),
            "$.questions[0].options",
            "same item twice",
        ),
        (
            lambda q: q["questions"][0].update(options=["Red", "red "]),
            "$.questions[0].options[1]",
            "same answer",
        ),
        (lambda q: q["questions"][0].pop("options"), "$.questions[0].options", "is required"),
        (
            lambda q: q["questions"][1].update(options=["green", "red"]),
            "$.questions[1].options",
            "no options",
        ),
        (lambda q: q["questions"][1].update(accepted=[]), "$.questions[1].accepted", "at least 1"),
        (lambda q: q["questions"][1].update(accepted=["?!"]), "$.questions[1].accepted[0]", "no letters"),
        (lambda q: q["questions"][1].update(kind="open"), "$.questions[1].kind", "'choice', 'typed'"),
        (lambda q: q["questions"][1].update(points=0), "$.questions[1].points", "at least 1"),
        (lambda q: q["questions"][1].update(points=1001), "$.questions[1].points", "at most 1000"),
        (lambda q: q["questions"][1].update(time_limit_s=4), "$.questions[1].time_limit_s", "at least 5"),
        (lambda q: q["questions"][1].update(time_limit_s=601), "$.questions[1].time_limit_s", "at most 600"),
        (lambda q: q["questions"][1].update(time_limit=30), "$.questions[1].time_limit", "not a field"),
        (lambda q: q["questions"][1].update(text="  "), "$.questions[1].text", "must not be empty"),
        (lambda q: q.update(id="a/b"), "$.id", "must match"),
        (lambda q: q.update(level="D1"), "$.level", "must be one of"),
        (lambda q: q.update(questions=[]), "$.questions", "at least 1"),
    ],
)
def test_loader_rejects_what_the_format_forbids(change: Any, field: str, message: str) -> None:
    data = a_quiz()
    change(data)
    error = load(data)
    assert error.field == field
    assert message in str(error)


def test_quiz_from_dict_rejects_the_same_as_the_file_loader() -> None:
    data = a_quiz()
    data["questions"][0]["accepted"] = ["green"]
    with pytest.raises(QuizFileError) as raised:
        quiz_from_dict(data)
    assert str(raised.value) == "$.questions[0].accepted[0]: 'green' is not one of the options"


def test_schema_file_is_the_schema_the_loader_validates_with() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema()
    Draft202012Validator.check_schema(json.loads(render_schema()))


def test_schema_file_alone_accepts_a_valid_quiz_and_rejects_invalid_ones() -> None:
    """Tools that only have schemas/quiz.schema.json (editors, CI of other repos) agree with
    the loader on everything a schema can express."""
    validator = Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    assert list(validator.iter_errors(a_quiz())) == []
    broken = copy.deepcopy(a_quiz())
    broken["questions"][1]["options"] = ["green", "red"]
    assert list(validator.iter_errors(broken))
    assert QUIZ_SCHEMA["properties"]["questions"]["items"]["properties"]["time_limit_s"]["minimum"] == 5
