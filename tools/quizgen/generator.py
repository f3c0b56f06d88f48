"""Vocabulary questions from the lexicon: which word means a definition (choice), the
synonym of a word (choice), the word for a definition (typed). Options share the answer's
part of speech and CEFR level; a question is kept only when nothing makes it ambiguous."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from quizgen import ambiguity, learnability
from quizgen.errors import NotEnoughWords
from quizgen.levels import LEVELS
from quizgen.lexicon import WORD, Entry, Lexicon
from quizgen.wordnet import Synset

MEANING, SYNONYM, TYPED = "meaning", "synonym", "typed"
FORMS = (MEANING, SYNONYM, TYPED)
OPTION_COUNT = 4
CHOICE_TIME_LIMIT_S = 20
TYPED_TIME_LIMIT_S = 30
MAX_QUESTIONS = 200
# Candidates tried for a question's distractors before its answer word is given up on.
DISTRACTOR_TRIES = 60
POS_NAMES = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}
MAX_EXAMPLE_CHARS = 500  # as the quiz format allows
_EXAMPLE_WORD = re.compile(r"[a-z]+")
# WordNet's own markup (`quoted' words, [editorial] notes) reads badly in a review.
_ODD_EXAMPLE = re.compile(r"[`\[\]]")


@dataclass(frozen=True, slots=True)
class Item:
    """A generated question, with what it was built from so that checks can re-examine it."""

    form: str
    pos: str
    level: str
    meaning_id: str  # the WordNet synset asked about
    prompt: str  # the definition, or for SYNONYM the word whose synonym is asked for
    accepted: tuple[str, ...]
    options: tuple[str, ...]  # empty for TYPED
    explanation: str
    example: str = ""  # a sentence showing an accepted answer, from WordNet; "" when it has none

    @property
    def text(self) -> str:
        if self.form == MEANING:
            return f"Which word means '{self.prompt}'?"
        if self.form == SYNONYM:
            return f"Pick the synonym of '{self.prompt}' ({POS_NAMES[self.pos]})."
        return f"Write the {POS_NAMES[self.pos]} for '{self.prompt}'."

    def question(self, question_id: str) -> dict[str, Any]:
        """The question as a quiz file has it (see docs/quiz-format.md)."""
        question: dict[str, Any] = {"id": question_id, "kind": "typed" if self.form == TYPED else "choice"}
        question["text"] = self.text
        if self.form != TYPED:
            question["options"] = list(self.options)
        question["accepted"] = list(self.accepted)
        question["time_limit_s"] = TYPED_TIME_LIMIT_S if self.form == TYPED else CHOICE_TIME_LIMIT_S
        question["explanation"] = self.explanation
        if self.example:
            question["example"] = self.example
        return question


def generate_items(lexicon: Lexicon, level: str, count: int, seed: int) -> list[Item]:
    """`count` questions on `level` words, a mix of the three forms; the same for the same seed."""
    return _Generator(lexicon, level, seed).items(count)


def generate_quiz(
    lexicon: Lexicon, level: str, count: int, seed: int, quiz_id: str | None = None
) -> dict[str, Any]:
    items = generate_items(lexicon, level, count, seed)
    return {
        "id": quiz_id or f"generated-{level.lower()}-{seed}",
        "title": f"{level} vocabulary (generated)",
        "description": (
            f"{count} questions on {level} words, generated from WordNet 3.0 definitions and synonyms "
            f"with CEFR levels from cefrpy (seed {seed})."
        ),
        "level": level,
        "tags": ["generated", "wordnet", level.lower()],
        "questions": [item.question(f"q{i}") for i, item in enumerate(items, start=1)],
    }


class _Generator:
    def __init__(self, lexicon: Lexicon, level: str, seed: int) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        self.lexicon = lexicon
        self.wordnet = lexicon.wordnet
        self.level = level
        # A string seed is hashed with SHA-512, so the sequence is the same in every process.
        self.rng = random.Random(f"{level}/{seed}")
        self.used: set[str] = set()  # words already asked about or accepted

    def items(self, count: int) -> list[Item]:
        if not 1 <= count <= MAX_QUESTIONS:
            raise ValueError(f"the number of questions must be 1-{MAX_QUESTIONS}")
        entries = self.lexicon.all_entries(self.level)
        builders: dict[str, Callable[[Entry], Item | None]] = {
            MEANING: self._meaning,
            SYNONYM: self._synonym,
            TYPED: self._typed,
        }
        queues = {form: iter(self.rng.sample(entries, len(entries))) for form in FORMS}
        plan = [FORMS[i % len(FORMS)] for i in range(count)]
        self.rng.shuffle(plan)
        items: list[Item] = []
        for planned in plan:
            # A form that runs out of words (few synonym pairs at some levels) yields to the others.
            forms = [planned, *(f for f in FORMS if f != planned)]
            item = next((i for f in forms if (i := self._build(queues[f], builders[f])) is not None), None)
            if item is None:
                raise NotEnoughWords(f"only {len(items)} unambiguous questions could be made at {self.level}")
            self.used.update((*item.accepted, *([item.prompt] if item.form == SYNONYM else [])))
            items.append(item)
        return items

    def _build(self, queue: Iterator[Entry], build: Callable[[Entry], Item | None]) -> Item | None:
        for entry in queue:
            if entry.word not in self.used and (item := build(entry)) is not None:
                return item
        return None

    def _meaning(self, entry: Entry) -> Item | None:
        definition = entry.sense.definition
        if ambiguity.mentions(definition, entry.word):
            return None
        if not learnability.learnable(self.lexicon, definition, entry.sense, self.level):
            return None
        distractors = self._distractors(entry, [entry.word], entry.sense, definition)
        if distractors is None:
            return None
        return self._item(
            MEANING, entry, definition, (entry.word,), distractors, _defines(entry.word, entry.sense)
        )

    def _synonym(self, entry: Entry) -> Item | None:
        synonyms = [
            w
            for w in self._same_level(entry.sense, entry.pos)
            if self.wordnet.tagged_senses(w, entry.pos)
            and not ambiguity.look_alike(w, entry.word)
            and learnability.known_meaning(self.lexicon, w, entry.sense)
        ]
        # The prompt word, like the answer and options, is of the quiz's level, so no word of
        # it is too hard: only the topic rule can refuse the question.
        if not synonyms or learnability.specialist(self.lexicon, entry.sense):
            return None
        answer = self.rng.choice(synonyms)
        distractors = self._distractors(entry, [entry.word, answer], entry.sense, None)
        if distractors is None:
            return None
        explanation = f"'{entry.word}' and '{answer}' both mean '{entry.sense.definition}'."
        return self._item(SYNONYM, entry, entry.word, (answer,), distractors, explanation)

    def _typed(self, entry: Entry) -> Item | None:
        """Accepted: the word and its one-word synonyms of the same level. Nouns only: a noun's
        definition singles out a thing, while glosses of adjectives and adverbs ("moving
        swiftly") fit many words that WordNet does not link. Refused when a player could
        fairly type another word: a common synonym of another level, or a word of a nearby
        meaning (a kind of the thing, a more general one) at this level or below."""
        sense, definition, pos = entry.sense, entry.sense.definition, entry.pos
        if pos != "n" or not learnability.learnable(self.lexicon, definition, sense, self.level):
            return None
        accepted = (entry.word, *(w for w in self._same_level(sense, pos) if w != entry.word))
        others = [w for w in sense.words if WORD.fullmatch(w) and w not in accepted]
        if any(self.lexicon.level(w, pos) is not None or self.wordnet.tagged_senses(w, pos) for w in others):
            return None
        rank = LEVELS.index(self.level)
        if any(
            self._rank(w, pos) <= rank for w in ambiguity.rivals(self.wordnet, sense) if w not in accepted
        ):
            return None
        if any(ambiguity.mentions(definition, w) for w in accepted):
            return None
        return self._item(TYPED, entry, definition, accepted, [], _defines(entry.word, sense))

    def _distractors(
        self, entry: Entry, avoid: list[str], meaning: Synset, definition: str | None
    ) -> list[str] | None:
        """Words of the same part of speech and level that neither share a meaning with the
        words in `avoid` nor fit `meaning`, spelled unlike each other, not in the definition."""
        pool = self.lexicon.entries(self.level, entry.pos)
        chosen: list[str] = []
        for candidate in self.rng.sample(pool, min(len(pool), DISTRACTOR_TRIES)):
            word = candidate.word
            if (
                not ambiguity.judged_apart([*avoid, *chosen, word])
                or any(ambiguity.shares_synset(self.wordnet, word, other) for other in avoid)
                or ambiguity.fits(self.wordnet, word, entry.pos, meaning)
                or (definition is not None and ambiguity.mentions(definition, word))
            ):
                continue
            chosen.append(word)
            if len(chosen) == OPTION_COUNT - 1:
                return chosen
        return None

    def _same_level(self, sense: Synset, pos: str) -> list[str]:
        """The meaning's one-word, fit, unused words at this level, in WordNet's order."""
        return [
            w
            for w in sense.words
            if WORD.fullmatch(w)
            and self.lexicon.level(w, pos) == self.level
            and w not in self.used
            and self.lexicon.is_fit(w)
        ]

    def _rank(self, word: str, pos: str) -> int:
        level = self.lexicon.level(word, pos)
        return len(LEVELS) if level is None else LEVELS.index(level)

    def _item(
        self, form: str, entry: Entry, prompt: str, accepted: tuple[str, ...], others: list[str], why: str
    ) -> Item:
        options = [*accepted, *others] if others else []
        self.rng.shuffle(options)
        example = pick_example(self.lexicon, entry.sense, accepted)
        sense_id = entry.sense.id
        return Item(form, entry.pos, self.level, sense_id, prompt, accepted, tuple(options), why, example)


def pick_example(lexicon: Lexicon, meaning: Synset, accepted: tuple[str, ...]) -> str:
    """The meaning's first WordNet example that shows an accepted answer (the first answer
    first), as written or inflected ("cubes", "ran"), as a sentence; "" when none does. An
    example of the meaning that uses only another of its words ("glad to help" for "happy")
    is left out: the review pairs the answer with the sentence, which would not show it."""
    for answer in accepted:
        for text in meaning.examples:
            sentence = _sentence(text)
            if (
                _shows(lexicon, sentence, answer)
                and len(sentence) <= MAX_EXAMPLE_CHARS
                and not _ODD_EXAMPLE.search(sentence)
                and lexicon.is_fit(sentence)
            ):
                return sentence
    return ""


def _shows(lexicon: Lexicon, text: str, word: str) -> bool:
    return any(
        token == word or word in lexicon.wordnet.base_forms(token)
        for token in _EXAMPLE_WORD.findall(text.lower())
    )


def _sentence(text: str) -> str:
    """An example as a sentence: no quotes around it, a capital first, a full stop last."""
    text = " ".join(text.strip().strip('"').split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _defines(word: str, sense: Synset) -> str:
    return f"{word}: {sense.definition}."
