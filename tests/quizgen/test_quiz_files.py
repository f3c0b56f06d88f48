"""Every quiz under quizzes/ (seeded into Firestore by `make run`) is a valid quiz file."""

from __future__ import annotations

from pathlib import Path

import pytest

from vocabquiz.domain.model import Kind
from vocabquiz.domain.quizfile import load_quiz_text

QUIZZES = Path(__file__).resolve().parents[2] / "quizzes"
FILES = sorted(QUIZZES.glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_quiz_file_validates(path: Path) -> None:
    load_quiz_text(path.read_text(encoding="utf-8"), str(path.relative_to(QUIZZES.parent)))


def test_quiz_files_have_distinct_ids() -> None:
    ids = [load_quiz_text(p.read_text(encoding="utf-8"), str(p)).id for p in FILES]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("path", sorted(QUIZZES.glob("generated-*.json")), ids=lambda p: p.name)
def test_generated_quiz_file_mixes_forms_with_20_to_30_second_limits(path: Path) -> None:
    quiz = load_quiz_text(path.read_text(encoding="utf-8"), str(path))
    assert len(quiz.questions) == 10
    assert {q.kind for q in quiz.questions} == {Kind.CHOICE, Kind.TYPED}
    assert all(20 <= q.time_limit_s <= 30 for q in quiz.questions)


def test_example_in_the_format_doc_validates() -> None:
    doc = (QUIZZES.parent / "docs" / "quiz-format.md").read_text(encoding="utf-8")
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    assert load_quiz_text(example, "docs/quiz-format.md").id == "kitchen-a2"
