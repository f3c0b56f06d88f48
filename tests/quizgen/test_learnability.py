"""The learnability rule: a quiz shows a player only words of its level or below, asks
everyday meanings, and its example sentences show the answer. Generated quizzes are checked
against cefrpy and WordNet's files directly, not through the generator's own code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cefrpy import CEFRAnalyzer

from quizgen import learnability
from quizgen.generator import SYNONYM, Item, _Generator, generate_items
from quizgen.levels import LEVELS
from quizgen.lexicon import Lexicon
from quizgen.wordnet import DEFAULT_DIR, WordNet

SEEDS = (1, 2)
PER_QUIZ = 30
TOKEN = re.compile(r"[a-z]+")  # WordNet's glosses and examples are ASCII
# Tags under which cefrpy rates closed-class words: determiners, pronouns, wh-words,
# prepositions, conjunctions, "to", modals, existential "there", particles.
CLOSED_CLASS_TAGS = frozenset(
    {"DT", "PDT", "PRP", "PRP$", "WP", "WP$", "WDT", "WRB", "IN", "CC", "TO", "MD", "EX", "RP"}
)
AUXILIARY_FORMS = frozenset({
    "be", "am", "is", "are", "was", "were", "been", "being",
    "have", "has", "had", "having", "do", "does", "did", "doing",
})  # fmt: skip
# Generous on purpose: any of these endings stripped (and an "e" or "y" put back) is taken as
# a base form, so the check below can only let through more than the generator does.
ENDINGS = ("s", "es", "ies", "ed", "d", "ied", "ing", "er", "est", "ier", "iest")


@pytest.fixture(scope="module")
def cefr_lowest() -> dict[str, str]:
    lowest: dict[str, str] = {}
    for word, _tag, level in CEFRAnalyzer().yield_word_pos_level(pos_tag_as_string=True):
        lowest[word] = min(lowest.get(word, "D"), str(level))
    return lowest


@pytest.fixture(scope="module")
def irregular() -> dict[str, set[str]]:
    bases: dict[str, set[str]] = {}
    for name in ("noun", "verb", "adj", "adv"):
        for line in (DEFAULT_DIR / f"{name}.exc").read_text(encoding="utf-8").splitlines():
            inflected, *base = line.split()
            bases.setdefault(inflected, set()).update(base)
    return bases


@pytest.fixture(scope="module")
def quizzes(lexicon: Lexicon) -> dict[tuple[str, int], list[Item]]:
    return {
        (level, seed): generate_items(lexicon, level, PER_QUIZ, seed) for level in LEVELS for seed in SEEDS
    }


def crude_bases(token: str, irregular: dict[str, set[str]]) -> set[str]:
    bases = set(irregular.get(token, ()))
    for ending in ENDINGS:
        if token.endswith(ending) and len(token) > len(ending) + 1:
            stem = token[: -len(ending)]
            bases |= {stem, stem + "e", stem + "y", stem[:-1] if stem[-1:] == stem[-2:-1] else stem}
    return bases


def test_every_word_of_a_shown_definition_is_of_the_quiz_level_or_below(
    quizzes: dict[tuple[str, int], list[Item]], cefr_lowest: dict[str, str], irregular: dict[str, set[str]]
) -> None:
    """The definition of a meaning or typed question: each word of two letters or more
    that is not a function word has a cefrpy level (any part of speech; else a base form's)
    at or below the quiz's. Words cefrpy does not know are too rare. A synonym question's
    prompt word is left out: it is of the quiz's level for its part of speech
    (test_generator_uses_only_words_of_the_requested_level), so it always passes."""
    problems = []
    checked = 0
    for (level, seed), items in quizzes.items():
        for item in (i for i in items if i.form != SYNONYM):
            checked += 1
            for token in TOKEN.findall(item.prompt.lower().replace("n't", " not")):
                if len(token) < 2 or token in learnability.FUNCTION_WORDS:
                    continue
                found = cefr_lowest.get(token) or min(
                    (cefr_lowest[b] for b in crude_bases(token, irregular) if b in cefr_lowest), default=None
                )
                if found is None or found > level:
                    problems.append((level, seed, item.text, token, found))
    assert not problems
    assert checked >= len(quizzes) * PER_QUIZ // 2


def test_function_words_are_closed_class_words_of_a1_or_a2(cefr_lowest: dict[str, str]) -> None:
    """Each exempt word is rated A1 or A2 by cefrpy as a determiner, pronoun, preposition,
    conjunction or modal, or is a form of "be", "have" or "do", or is "not"; none is one
    letter (those are skipped before the list is read)."""
    closed: dict[str, str] = {}
    for word, tag, level in CEFRAnalyzer().yield_word_pos_level(pos_tag_as_string=True):
        if tag in CLOSED_CLASS_TAGS:
            closed[word] = min(closed.get(word, "D"), str(level))
    for word in learnability.FUNCTION_WORDS:
        assert len(word) > 1, word
        if word in AUXILIARY_FORMS or word == "not":
            assert cefr_lowest[word] <= "A2", word
        else:
            assert closed.get(word, "D") <= "A2", (word, closed.get(word))


def test_rule_judges_words_rated_above_a2_even_when_they_are_grammar(lexicon: Lexicon) -> None:
    """Not exempt: "nor", "whether" (B1), "neither" (B2), "yourselves" (C2), nor adverbs and
    adjectives such as "further" or "others" (A2)."""
    assert learnability.hard_words(lexicon, "neither here nor there", "A2") == ["neither", "nor"]
    assert learnability.hard_words(lexicon, "whether or not", "A2") == ["whether"]
    assert learnability.hard_words(lexicon, "help others further", "A1") == ["others", "further"]
    assert learnability.hard_words(lexicon, "help others further", "A2") == []
    assert learnability.hard_words(lexicon, "without them, during the day", "A1") == []


def test_rule_reads_words_of_any_letters_and_splits_at_hyphens_and_apostrophes(lexicon: Lexicon) -> None:
    assert learnability.words("An X-ray of someone's arm") == ["an", "ray", "of", "someone", "arm"]
    assert learnability.words("Un café, a Résumé") == ["un", "café", "résumé"]
    assert learnability.words("Re\u0301sume\u0301 STRAẞE") == ["résumé", "strasse"]
    assert learnability.words("doesn't, won't, can't") == ["does", "not", "will", "not", "can", "not"]
    assert learnability.words("Cannot") == ["can", "not"]
    # An accented word is judged whole, by its unaccented spelling when cefrpy lacks it.
    assert learnability.word_level(lexicon, "café") == lexicon.lowest_level("cafe") == "A1"
    assert learnability.hard_words(lexicon, "a résumé", "A2") == ["résumé"]
    assert learnability.hard_words(lexicon, "a résumé", "B2") == []
    assert learnability.hard_words(lexicon, "it doesn't", "A1") == []


def test_no_question_asks_a_meaning_filed_under_a_topic(
    quizzes: dict[tuple[str, int], list[Item]], wordnet: WordNet
) -> None:
    """Read from the data files' pointers: no ";c" (topic) on the meaning or its hypernyms."""
    lines = {}
    for pos, name in (("n", "noun"), ("v", "verb"), ("a", "adj"), ("r", "adv")):
        for line in (DEFAULT_DIR / f"data.{name}").read_text(encoding="utf-8").splitlines():
            if not line.startswith("  "):
                lines[pos + line[:8]] = line.split(" | ")[0].split()

    def pointers(synset_id: str) -> list[tuple[str, str]]:
        fields = lines[synset_id]
        at = 4 + 2 * int(fields[3], 16)
        return [
            (fields[i], ("a" if fields[i + 2] == "s" else fields[i + 2]) + fields[i + 1])
            for i in range(at + 1, at + 1 + 4 * int(fields[at]), 4)
        ]

    for items in quizzes.values():
        for item in items:
            kinds = [t for symbol, t in pointers(item.meaning_id) if symbol in ("@", "@i")]
            topics = [t for s in (item.meaning_id, *kinds) for symbol, t in pointers(s) if symbol == ";c"]
            assert not topics, (item.text, [wordnet.synset(t).words for t in topics])


def test_synonym_answers_share_a_meaning_the_answer_is_known_by(
    quizzes: dict[tuple[str, int], list[Item]], wordnet: WordNet
) -> None:
    for items in quizzes.values():
        for item in (i for i in items if i.form == SYNONYM):
            answer = item.accepted[0]
            seen = [s.id for s in wordnet.synsets(answer, item.pos)][
                : wordnet.tagged_senses(answer, item.pos)
            ]
            assert item.meaning_id in seen, item


def test_examples_show_an_accepted_answer_as_a_sentence(
    quizzes: dict[tuple[str, int], list[Item]], irregular: dict[str, set[str]]
) -> None:
    examples = 0
    for items in quizzes.values():
        for item in (i for i in items if i.example):
            examples += 1
            tokens = TOKEN.findall(item.example.lower())
            forms = set(tokens) | {b for t in tokens for b in crude_bases(t, irregular)}
            assert forms & set(item.accepted), item
            assert len(item.example) <= 500 and not item.example.startswith('"'), item
            assert item.example[0] == item.example[0].upper() and item.example[-1] in ".!?", item
    assert examples >= len(quizzes) * PER_QUIZ // 4  # WordNet has examples for many meanings


def test_rule_refuses_decomposition_defined_as_the_analysis_of_a_vector_field_at_b2(lexicon: Lexicon) -> None:
    """The issue's case: a B2 word whose first meaning is a mathematician's. Its words are of
    B1 and below for cefrpy ("vector" B1), so it is the topic (vector algebra, under
    mathematics) that marks it."""
    entry = next(e for e in lexicon.entries("B2", "n") if e.word == "decomposition")
    assert entry.sense.definition == "the analysis of a vector field"
    assert learnability.specialist(lexicon, entry.sense)
    assert not learnability.learnable(lexicon, entry.sense.definition, entry.sense, "B2")


def test_rule_refuses_definitions_in_rarer_words_than_the_level(lexicon: Lexicon, wordnet: WordNet) -> None:
    cube = wordnet.primary("cube", "n")
    ankle = wordnet.primary("ankle", "n")
    assert cube is not None and ankle is not None
    assert learnability.hard_words(lexicon, cube.definition, "B2") == ["hexahedron"]
    assert {"tibia", "fibula", "distal"} <= set(learnability.hard_words(lexicon, ankle.definition, "A2"))
    assert not learnability.learnable(lexicon, cube.definition, cube, "B2")
    assert learnability.hard_words(lexicon, "a young dog's toys", "A1") == []


def test_rule_reads_an_inflection_by_its_base_form(lexicon: Lexicon) -> None:
    assert lexicon.lowest_level("cryings") is None
    assert learnability.word_level(lexicon, "cryings") == lexicon.lowest_level("cry") == "A1"


def test_rule_refuses_a_synonym_by_a_meaning_its_answer_is_not_known_by(
    wordnet: WordNet, lexicon: Lexicon
) -> None:
    roam = wordnet.primary("roam", "v")
    assert roam is not None and {"cast", "wander"} <= set(roam.words)
    assert not learnability.known_meaning(lexicon, "cast", roam)
    assert learnability.known_meaning(lexicon, "wander", roam)


def test_topic_rule_alone_refuses_a_synonym_question(
    lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The A2 nouns "lawyer" and "attorney" share their primary meaning, filed under law.
    The prompt word passes the rare-word check, as every prompt word does; the question is
    refused for the topic, and made once the topic rule is switched off."""
    entry = next(e for e in lexicon.entries("A2", "n") if e.word == "lawyer")
    assert "attorney" in entry.sense.words and lexicon.level("attorney", "n") == "A2"
    assert learnability.hard_words(lexicon, entry.word, "A2") == []
    assert learnability.specialist(lexicon, entry.sense)
    assert _Generator(lexicon, "A2", 1)._synonym(entry) is None
    monkeypatch.setattr(learnability, "specialist", lambda lexicon, meaning: False)
    item = _Generator(lexicon, "A2", 1)._synonym(entry)
    assert item is not None and item.accepted == ("attorney",)


def test_committed_quizzes_pass_the_rule(lexicon: Lexicon, wordnet: WordNet) -> None:
    """The seeded quizzes hold no question the rule refuses: no hard word in what is shown
    (the typed question of generated-a2 once asked for "ankle" as 'a gliding joint between
    the distal ends of the tibia and fibula ...'), and no meaning filed under a topic. The
    meaning is found from the file alone: the answer's WordNet meaning with the definition
    shown (for a synonym question, the one its explanation gives)."""
    pos_names = {"noun": "n", "verb": "v", "adjective": "a", "adverb": "r"}
    paths = sorted((Path(__file__).resolve().parents[2] / "quizzes").glob("generated-*.json"))
    assert paths
    for path in paths:
        quiz = json.loads(path.read_text(encoding="utf-8"))
        for question in quiz["questions"]:
            where = (path.name, question["text"])
            shown = re.search(r"'(.*)'", question["text"])
            assert shown is not None
            assert learnability.hard_words(lexicon, shown[1], quiz["level"]) == [], where
            named_pos = re.search(r"\b(noun|verb|adjective|adverb)\b", question["text"])
            pos = pos_names[named_pos[1]] if named_pos else None
            if question["text"].startswith("Pick the synonym"):
                definition = re.search(r"both mean '(.*)'\.$", question["explanation"])[1]  # type: ignore[index]
            else:
                definition = shown[1]
            meanings = [
                m for m in wordnet.synsets(question["accepted"][0], pos) if m.definition == definition
            ]
            assert meanings, where
            assert not any(learnability.specialist(lexicon, m) for m in meanings), where


def test_format_doc_lists_exactly_the_function_words() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "quiz-format.md").read_text(encoding="utf-8")
    listed = doc.split("  - articles and determiners:", 1)[1].split("\n\n", 1)[0]
    lines = [line.split(":", 1)[1] if ":" in line else line for line in listed.splitlines()]
    words = {w.strip(" .;") for line in lines for w in line.split(",")} - {""}
    assert words == learnability.FUNCTION_WORDS
