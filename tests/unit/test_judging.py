"""Judging answers: each normalization rule on its own, then properties over arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vocabquiz.domain import judging


def typed(answer: str, *accepted: str) -> bool:
    return judging.is_correct("typed", answer, accepted)


def choice(answer: str, *accepted: str) -> bool:
    return judging.is_correct("choice", answer, accepted)


def test_typed_answer_ignores_case() -> None:
    assert typed("ELEPHANT", "elephant")
    assert typed("elephant", "Elephant")


def test_typed_answer_case_folds_sharp_s() -> None:
    assert typed("STRASSE", "Straße")


def test_typed_answer_ignores_accents() -> None:
    assert typed("cafe", "café")
    assert typed("naive", "naïve")
    assert typed("Éclair", "eclair")


def test_typed_answer_keeps_marks_that_are_letters_of_their_script() -> None:
    assert not typed("か", "が")
    assert not typed("कम", "काम")


def test_typed_answer_unifies_compatibility_forms() -> None:
    assert typed("\uff43\uff41\uff54", "cat")  # fullwidth
    assert typed("ﬁsh", "fish")


def test_typed_answer_collapses_and_trims_whitespace() -> None:
    assert typed("  ice \t  cream \n", "ice cream")


def test_typed_answer_ignores_surrounding_punctuation() -> None:
    assert typed('"Paris!"', "paris")
    assert typed("¿qué?", "que")
    assert typed("«dog».", "dog")


def test_typed_answer_treats_hyphen_as_space() -> None:
    assert typed("well being", "well-being")
    assert typed("well-being", "well being")


def test_typed_answer_drops_apostrophes_straight_or_curly() -> None:
    assert typed("dont", "don't")
    assert typed("don\u2019t", "don't")
    assert typed("don\u00b4t", "don't")
    assert typed("don\uff07t", "don't")  # fullwidth


def test_typed_answer_drops_one_leading_article() -> None:
    assert typed("the dog", "dog")
    assert typed("dog", "a dog")
    assert typed("an apple", "the apple")


def test_typed_answer_drops_infinitive_to() -> None:
    assert typed("run", "to run")
    assert typed("to run", "run")


def test_typed_answer_keeps_an_article_that_is_the_whole_answer() -> None:
    assert judging.normalize_typed("A") == "a"
    assert not typed("the", "a")


def test_typed_answer_with_one_typo_on_long_word_is_correct() -> None:
    assert typed("elephnt", "elephant")  # deletion
    assert typed("elephaant", "elephant")  # insertion
    assert typed("elepxant", "elephant")  # substitution


def test_typed_answer_with_one_typo_on_five_letter_word_is_correct() -> None:
    assert typed("hause", "house")


def test_typed_answer_with_adjacent_transposition_is_correct() -> None:
    assert typed("elehpant", "elephant")
    assert typed("hosue", "house")


def test_typed_answer_with_two_typos_is_wrong() -> None:
    assert not typed("elefant", "elephant")  # "ph" -> "f": a substitution and a deletion
    assert not typed("eleqhanx", "elephant")
    assert not typed("elphnt", "elephant")
    assert not typed("ehelpant", "elephant")


def test_typed_answer_with_a_typo_on_four_letter_word_is_wrong() -> None:
    assert not typed("hause", "haus")
    assert not typed("dgo", "dog")
    assert not typed("caat", "cat")
    assert not typed("bred", "bird")
    assert typed("bird", "bird")


def test_typed_typo_threshold_counts_letters_of_the_accepted_answer_after_normalization() -> None:
    # "the bird" normalizes to "bird": four letters, so no typo is forgiven.
    assert not typed("bord", "the bird")


def test_typed_answer_matches_any_of_several_accepted_answers() -> None:
    accepted = ("automobile", "car", "motor car")
    assert typed("car", *accepted)
    assert typed("automobil", *accepted)
    assert typed("Motor-Car", *accepted)
    assert not typed("bus", *accepted)


def test_typed_answer_that_normalizes_to_nothing_is_wrong() -> None:
    assert not typed("", "dog")
    assert not typed("   ", "dog")
    assert not typed("?!", "dog")
    assert not typed("", "")
    assert not typed("...", "?")


def test_typed_answer_with_no_accepted_answers_is_wrong() -> None:
    assert not typed("dog")


def test_choice_answer_ignores_surrounding_whitespace_and_case() -> None:
    assert choice("  Paris ", "paris", "London")
    assert choice("STRASSE", "Straße")


def test_choice_answer_ignores_unicode_composition() -> None:
    assert choice("cafe\u0301", "café")


def test_choice_answer_forgives_no_typo_accent_or_punctuation() -> None:
    assert not choice("Pariss", "Paris")
    assert not choice("cafe", "café")
    assert not choice("Paris!", "Paris")
    assert not choice("the Paris", "Paris")


def test_choice_answer_matches_any_accepted_option() -> None:
    assert choice("B", "a", "b")


def test_empty_choice_answer_is_wrong() -> None:
    assert not choice("", "")
    assert not choice("  ", "Paris")


def test_unknown_kind_raises_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'essay'"):
        judging.is_correct("essay", "anything", ["anything"])


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("  The Well-Being!! ", "well being"),
        ("Don\u2019t", "dont"),
        ("To Run", "run"),
        ("the the dog", "dog"),
        ("Café   au lait", "cafe au lait"),
    ],
)
def test_normalize_typed_examples(text: str, normalized: str) -> None:
    assert judging.normalize_typed(text) == normalized


@given(st.text())
def test_normalize_typed_is_idempotent(text: str) -> None:
    once = judging.normalize_typed(text)
    assert judging.normalize_typed(once) == once


@given(st.text())
def test_typed_accepted_answer_is_right_against_itself(text: str) -> None:
    assert judging.is_correct("typed", text, [text]) == bool(judging.normalize_typed(text))


@given(st.text())
def test_choice_accepted_answer_is_right_against_itself(text: str) -> None:
    assert judging.is_correct("choice", text, [text]) == bool(text.strip())


@given(st.sampled_from(["choice", "typed"]), st.text(), st.lists(st.text(), max_size=4))
def test_is_correct_never_raises_on_arbitrary_text(kind: str, answer: str, accepted: list[str]) -> None:
    assert judging.is_correct(kind, answer, accepted) in (True, False)


@given(st.text(alphabet="abcdefgh", min_size=5, max_size=12), st.data())
def test_one_edit_on_long_answer_is_forgiven(word: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(word) - 1))
    edited = data.draw(
        st.sampled_from(
            [
                word[:position] + word[position + 1 :],
                word[:position] + "z" + word[position:],
                word[:position] + "z" + word[position + 1 :],
                word[:position] + word[position + 1 : position + 2] + word[position] + word[position + 2 :],
            ]
        )
    )
    assert judging.is_correct("typed", edited, [word])
