"""The quiz generator: reproducible from a seed, on the requested level, valid quiz files."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from cefrpy import CEFRAnalyzer

from quizgen.__main__ import main
from quizgen.generator import MEANING, SYNONYM, TYPED, generate_items, generate_quiz, pick_example
from quizgen.lexicon import Lexicon
from tests.quizgen.test_wordnet import tiny_wordnet
from vocabquiz.domain.quizfile import load_quiz_text, quiz_from_dict

QUIZZES = Path(__file__).resolve().parents[2] / "quizzes"
PENN = {"n": "NN", "v": "VB", "a": "JJ", "r": "RB"}


def test_generator_given_the_same_seed_makes_the_same_quiz(lexicon: Lexicon) -> None:
    assert generate_quiz(lexicon, "B1", 12, seed=42) == generate_quiz(lexicon, "B1", 12, seed=42)


def test_generator_given_another_seed_makes_another_quiz(lexicon: Lexicon) -> None:
    first, second = (generate_quiz(lexicon, "B1", 12, seed=s)["questions"] for s in (1, 2))
    assert [q["text"] for q in first] != [q["text"] for q in second]


@pytest.mark.parametrize("path", sorted(QUIZZES.glob("generated-*.json")), ids=lambda p: p.name)
def test_generator_reproduces_each_committed_quiz_from_its_seed(lexicon: Lexicon, path: Path) -> None:
    """The committed files were made in other processes: equal output also shows that
    nothing depends on per-process hash order."""
    committed = json.loads(path.read_text(encoding="utf-8"))
    seed = int(re.search(r"\(seed (\d+)\)", committed["description"])[1])  # type: ignore[index]
    count = len(committed["questions"])
    assert generate_quiz(lexicon, committed["level"], count, seed, committed["id"]) == committed


@pytest.mark.parametrize("level", ["A1", "A2", "B1", "B2", "C1", "C2"])
def test_generator_uses_only_words_of_the_requested_level(lexicon: Lexicon, level: str) -> None:
    """Checked with cefrpy directly: every answer, option and synonym prompt."""
    analyzer = CEFRAnalyzer()
    for item in generate_items(lexicon, level, 30, seed=7):
        words = {*item.accepted, *item.options, *([item.prompt] if item.form == SYNONYM else [])}
        levels = {w: str(analyzer.get_word_pos_level_CEFR(w, PENN[item.pos])) for w in words}
        assert set(levels.values()) == {level}, (item, levels)


def test_generator_mixes_the_three_question_forms(lexicon: Lexicon) -> None:
    forms = Counter(item.form for item in generate_items(lexicon, "A2", 10, seed=3))
    assert set(forms) == {MEANING, SYNONYM, TYPED}


def test_generated_quiz_is_a_valid_quiz_file(lexicon: Lexicon) -> None:
    data = generate_quiz(lexicon, "B2", 20, seed=9, quiz_id="b2-test")
    quiz = quiz_from_dict(data)
    assert quiz.id == "b2-test" and len(quiz.questions) == 20
    assert all(20 <= q.time_limit_s <= 30 and q.explanation for q in quiz.questions)


def test_generator_takes_an_example_that_shows_the_answer_from_the_gloss(
    tmp_path: Path, lexicon: Lexicon
) -> None:
    """The gloss 'enjoying or showing joy; "a happy smile"; "glad to help"' gives each of its
    words the example that uses it, inflected or not, as a sentence; none to a word in none."""
    happy = tiny_wordnet(tmp_path).primary("happy", "a")
    assert happy is not None
    assert pick_example(lexicon, happy, ("happy",)) == "A happy smile."
    assert pick_example(lexicon, happy, ("glad",)) == "Glad to help."
    assert pick_example(lexicon, happy, ("joyful",)) == ""
    cube = dataclasses.replace(happy, examples=("the cubes were made of ivory!", "a cube"))
    assert pick_example(lexicon, cube, ("cube",)) == "The cubes were made of ivory!"


def test_generated_questions_carry_their_examples_in_the_quiz_file(lexicon: Lexicon) -> None:
    data = generate_quiz(lexicon, "A2", 20, seed=9)
    items = generate_items(lexicon, "A2", 20, seed=9)
    examples = [q.example for q in quiz_from_dict(data).questions]
    assert examples == [item.example for item in items] and any(examples)
    assert all("example" not in q for q, e in zip(data["questions"], examples, strict=True) if not e)


def test_cli_writes_the_quiz_it_is_asked_for(
    tmp_path: Path, lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Lexicon, "load", classmethod(lambda cls: lexicon))  # already read once
    out = tmp_path / "quiz.json"
    assert main(["b1", "5", "--seed", "11", "--id", "cli-quiz", "--out", str(out)]) == 0
    quiz = load_quiz_text(out.read_text(encoding="utf-8"), str(out))
    assert quiz.id == "cli-quiz" and len(quiz.questions) == 5
    assert json.loads(out.read_text(encoding="utf-8")) == generate_quiz(lexicon, "B1", 5, 11, "cli-quiz")


def test_cli_refuses_an_unknown_level(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["D1", "5"])
    assert exited.value.code == 2
    assert "invalid choice: 'D1'" in capsys.readouterr().err
