"""Whether a learner at a quiz's level could answer a question: every word they must read
to answer is of their level or below, and the meaning asked is an everyday one, not a
specialist's (see docs/quiz-format.md, "Learnability")."""

from __future__ import annotations

import re
import unicodedata

from quizgen.levels import LEVELS
from quizgen.lexicon import Lexicon
from quizgen.wordnet import Synset

# Grammar, not vocabulary, and not checked: a definition cannot be written without these
# closed-class words. Each is rated A1 or A2 by cefrpy as one of them (tags DT, PRP, WP, WDT,
# WRB, IN, CC, TO, MD, EX, RP), or is a form of the auxiliaries "be", "have" and "do"; the
# negative "not" (tagged RB) is the one other. Only those rated A2 change anything, and only
# at A1: an A1 definition may say "during", "without", "might" or "themselves".
FUNCTION_WORDS = frozenset((
    # articles and determiners, quantifiers among them ("a" and "I" are one letter: skipped)
    "an", "the", "this", "that", "these", "those", "all", "any", "both", "each",
    "either", "few", "more", "most", "no", "other", "some", "such",
    # personal, possessive, reflexive, indefinite, relative and interrogative pronouns;
    # wh-adverbs; existential "there"
    "me", "my", "you", "your", "yours", "yourself", "he", "him", "his", "himself",
    "she", "her", "hers", "herself", "it", "its", "itself", "we", "us", "our", "ours",
    "ourselves", "they", "them", "their", "theirs", "themselves", "myself", "somebody",
    "someone", "something", "what", "which", "who", "whom", "whose", "how", "when", "where",
    "why", "there",
    # prepositions
    "about", "above", "after", "against", "as", "at", "before", "below", "between", "by",
    "down", "during", "for", "from", "in", "into", "of", "off", "on", "out", "over",
    "through", "to", "under", "until", "up", "upon", "with", "within", "without",
    # conjunctions
    "and", "because", "but", "if", "or", "so", "than", "while",
    # auxiliaries and modals, and the negative
    "am", "are", "be", "been", "being", "is", "was", "were", "do", "does", "did", "doing",
    "had", "has", "have", "having", "can", "could", "may", "might", "must", "shall",
    "should", "will", "would", "not",
))  # fmt: skip
# Pointer to a topic a meaning is filed under ("law", "baseball", "mathematics").
TOPIC_POINTER = ";c"
HYPERNYM_POINTERS = frozenset({"@", "@i"})
# A word: a maximal run of letters, any script ("café", "résumé" whole); digits, "_",
# apostrophes, hyphens and all else split ("x-ray": "x", "ray"; "someone's": "someone", "s").
_WORD = re.compile(r"[^\W\d_]+")
# Contractions of "not" read as the two words: "doesn't" is "does not", not "doesn" + "t";
# "cannot" (C2 for cefrpy, as a spelling) is "can not".
_NOT = re.compile(r"n't\b")
_IRREGULAR_NOT = {"can't": "can not", "cannot": "can not", "won't": "will not", "shan't": "shall not"}


def words(text: str) -> list[str]:
    """The words of `text` as the rule reads them: NFC-normalised and case-folded, the
    contractions of "not" spelled out ("won't", "cannot": "will not", "can not"), then split
    into maximal runs of letters. One-letter words are left out ("s" of "someone's", "x" of
    "x-ray", "a", "I")."""
    text = unicodedata.normalize("NFC", text).casefold().replace("\u2019", "'")
    for contracted, spelled in _IRREGULAR_NOT.items():
        text = re.sub(rf"\b{contracted}\b", spelled, text)
    return [w for w in _WORD.findall(_NOT.sub(" not", text)) if len(w) > 1]


def word_level(lexicon: Lexicon, word: str) -> str | None:
    """The level a reader needs for `word` as written: its own lowest cefrpy level (cefrpy
    rates many inflected forms), else the lowest of the words WordNet takes it as an
    inflection of ("shelves": "shelf"), else the same for the word without its accents
    ("café": "cafe"; cefrpy and WordNet spell words in ASCII); None when none is known."""
    for form in dict.fromkeys((word, _unaccented(word))):
        level = lexicon.lowest_level(form)
        if level is not None:
            return level
        levels = [lv for base in lexicon.wordnet.base_forms(form) if (lv := lexicon.lowest_level(base))]
        if levels:
            return min(levels)
    return None


def hard_words(lexicon: Lexicon, text: str, level: str) -> list[str]:
    """The words of `text` (see `words`) above what a `level` player reads, function words
    aside: of a higher level, or unknown to cefrpy (as rare as it gets: "hexahedron",
    "tibia"). Empty when all pass."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    hard = []
    for word in words(text):
        if word in FUNCTION_WORDS:
            continue
        found = word_level(lexicon, word)
        if found is None or found > level:
            hard.append(word)
    return hard


def _unaccented(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


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
