"""No ambiguous question over a sample of 500 generated ones, checked here independently
of the generator's own rules: straight from WordNet's synsets and pointers."""

from __future__ import annotations

import re
import unicodedata

import pytest

from quizgen.generator import MEANING, SYNONYM, TYPED, Item, generate_items
from quizgen.lexicon import Lexicon
from quizgen.wordnet import WordNet
from vocabquiz.domain.judging import normalize_typed

SAMPLE_LEVELS = ("A1", "A2", "B1", "B2", "C1")
PER_LEVEL = 100
# A definition this close to the answer's meaning fits a distractor too: the same synset, a
# kind of it or the kind it is, a similar adjective, see-also, a verb of the same group.
NEAR = {"@", "@i", "~", "~i", "&", "^", "$"}
SUFFIXES = ("ness", "ment", "ing", "ion", "ity", "ed", "er", "es", "ly", "al", "s", "e", "y")


@pytest.fixture(scope="module")
def sample(lexicon: Lexicon) -> list[Item]:
    return [
        item
        for i, level in enumerate(SAMPLE_LEVELS)
        for item in generate_items(lexicon, level, PER_LEVEL, seed=1000 + i)
    ]


def test_sample_has_500_questions_of_all_forms(sample: list[Item]) -> None:
    assert len(sample) == 500
    assert {item.form for item in sample} == {MEANING, SYNONYM, TYPED}


def test_no_option_but_the_answer_shares_a_synset_with_it(sample: list[Item], wordnet: WordNet) -> None:
    problems = []
    for item in sample:
        keys = [*item.accepted, *([item.prompt] if item.form == SYNONYM else [])]
        meanings = {s.id for key in keys for s in wordnet.synsets(key)}
        for option in set(item.options) - set(item.accepted):
            shared = meanings & {s.id for s in wordnet.synsets(option)}
            if shared:
                problems.append((item.text, option, sorted(shared)))
    assert problems == []


def test_no_distractor_has_the_asked_meaning_or_one_next_to_it(sample: list[Item], wordnet: WordNet) -> None:
    problems = []
    for item in sample:
        meaning = wordnet.synset(item.meaning_id)
        close = {meaning.id} | {target for symbol, target in meaning.pointers if symbol in NEAR}
        for option in set(item.options) - set(item.accepted):
            for sense in wordnet.synsets(option, item.pos):
                if sense.id in close or meaning.id in {t for s, t in sense.pointers if s in NEAR}:
                    problems.append((item.text, option, sense.definition))
    assert problems == []


def test_no_definition_contains_the_answer_or_its_stem(sample: list[Item]) -> None:
    problems = [
        (item.prompt, answer)
        for item in sample
        if item.form in (MEANING, TYPED)
        for answer in item.accepted
        for token in re.findall(r"[a-z]+", item.prompt.lower())
        if len(token) >= 3 and _same_stem(token, answer)
    ]
    assert problems == []


def test_options_stay_distinct_after_normalisation(sample: list[Item]) -> None:
    for item in sample:
        if item.form == TYPED:
            assert item.options == ()
            continue
        assert len(item.options) == 4 and len(item.accepted) == 1 and item.accepted[0] in item.options
        typed = {normalize_typed(o) for o in item.options}
        chosen = {unicodedata.normalize("NFC", o).strip().casefold() for o in item.options}
        assert len(typed) == len(chosen) == 4, item.options


def test_synonym_prompt_is_never_an_option(sample: list[Item]) -> None:
    for item in sample:
        if item.form == SYNONYM:
            assert normalize_typed(item.prompt) not in {normalize_typed(o) for o in item.options}


def _same_stem(token: str, word: str) -> bool:
    """A crude stemmer, deliberately unlike the generator's prefix rule."""
    if token == word or (min(len(token), len(word)) >= 4 and (token in word or word in token)):
        return True
    return len(_stem(token)) >= 3 and _stem(token) == _stem(word)


def _stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word
