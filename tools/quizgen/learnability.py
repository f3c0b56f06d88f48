"""Whether a learner at a quiz's level could answer a question: every word they must read
to answer is of their level or below, and the meaning asked is an everyday one, not a
specialist's (see docs/quiz-format.md, "Learnability")."""

from __future__ import annotations

import re

from quizgen.levels import LEVELS
from quizgen.lexicon import Lexicon
from quizgen.wordnet import Synset

# Grammar, not vocabulary: articles, pronouns, prepositions, conjunctions, auxiliaries and
# modals. A definition cannot be written without them, and cefrpy rates a few of them by
# their rarer uses ("whether" B1, "neither" B2, "cannot" C2).
FUNCTION_WORDS = frozenset((
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "cannot", "could", "did", "do", "does", "doing", "down",
    "during", "each", "either", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "if",
    "in", "into", "is", "it", "its", "itself", "may", "me", "might", "more", "most", "must",
    "my", "myself", "neither", "no", "nor", "not", "of", "off", "on", "once", "one", "only",
    "or", "other", "others", "our", "ours", "ourselves", "out", "over", "own", "same",
    "shall", "she", "should", "so", "some", "somebody", "someone", "something", "such",
    "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there",
    "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
    "upon", "us", "very", "was", "we", "were", "what", "when", "where", "whether", "which",
    "while", "who", "whom", "whose", "why", "will", "with", "within", "without", "would",
    "you", "your", "yours", "yourself", "yourselves",
))  # fmt: skip
# Pointer to a topic a meaning is filed under ("law", "baseball", "mathematics").
TOPIC_POINTER = ";c"
HYPERNYM_POINTERS = frozenset({"@", "@i"})
_TOKEN = re.compile(r"[a-z]+")


def word_level(lexicon: Lexicon, word: str) -> str | None:
    """The level a reader needs for `word` as written: its own lowest cefrpy level (cefrpy
    rates many inflected forms), else the lowest of the words WordNet takes it as an
    inflection of ("shelves": "shelf"); None when neither is known."""
    level = lexicon.lowest_level(word)
    if level is not None:
        return level
    levels = [lv for base in lexicon.wordnet.base_forms(word) if (lv := lexicon.lowest_level(base))]
    return min(levels, default=None)


def hard_words(lexicon: Lexicon, text: str, level: str) -> list[str]:
    """The content words of `text` above what a `level` player reads: of a higher level, or
    unknown to cefrpy (as rare as it gets: "hexahedron", "tibia"). Empty when all pass."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    hard = []
    for token in _TOKEN.findall(text.lower()):
        if len(token) < 2 or token in FUNCTION_WORDS:  # "s" of "someone's"
            continue
        found = word_level(lexicon, token)
        if found is None or found > level:
            hard.append(token)
    return hard


def specialist(lexicon: Lexicon, meaning: Synset) -> bool:
    """Whether WordNet files the meaning, or the kind of thing it is, under a topic: a
    specialist's sense ("decomposition": "the analysis of a vector field", a kind of vector
    algebra, filed under mathematics; "run" as a score in baseball), not the everyday one
    that the word's CEFR level rates."""
    kinds = [lexicon.wordnet.synset(t) for symbol, t in meaning.pointers if symbol in HYPERNYM_POINTERS]
    return any(symbol == TOPIC_POINTER for synset in (meaning, *kinds) for symbol, _ in synset.pointers)


def learnable(lexicon: Lexicon, text: str, meaning: Synset, level: str) -> bool:
    """Whether a `level` player could answer a question on `meaning` that shows them `text`."""
    return not specialist(lexicon, meaning) and not hard_words(lexicon, text, level)


def known_meaning(lexicon: Lexicon, word: str, meaning: Synset) -> bool:
    """Whether `meaning` is one a learner may know `word` by: one of its meanings seen in
    WordNet's sense-tagged corpus (SemCor), which WordNet lists first. "cast" shares a
    meaning with "roam", but that sense of it is never seen there: asking "cast" as the
    synonym of "roam" tests a rarity, not the learner's word."""
    senses = [s.id for s in lexicon.wordnet.synsets(word, meaning.pos)]
    return meaning.id in senses[: lexicon.wordnet.tagged_senses(word, meaning.pos)]
