"""When a question would have two right answers or give its answer away: a distractor
that shares a meaning with the answer or that the definition also fits, a definition that
contains the answer (or a word of the same stem), options that judge as the same answer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from quizgen.wordnet import Synset, WordNet
from vocabquiz.domain.judging import normalize_typed

# Pointers between meanings so near that a definition of one can pass for the other:
# similar to (adjective clusters), also see, verb group, entailment, cause.
NEAR_POINTERS = frozenset({"&", "^", "$", "*", ">"})
HYPERNYM_POINTERS = frozenset({"@", "@i"})
HYPONYM_POINTERS = frozenset({"~", "~i"})
# How far up from the answer's meaning a more general word still reads as a fit ("a young
# dog": "dog"); any depth down does, as a definition fits every kind of the thing it defines.
GENERAL_DEPTH = 2
# A shared part this long, not just a shared ending ("-duction"), ties two words together
# ("protecting"/"overprotection").
MIN_SHARED_PART = 6
# Spellings this alike are easily mistaken for one another ("affect"/"effect", "grey"/"gray").
MAX_LIKENESS = 0.75
# Words that differ only in their last few letters, or share a long beginning or half the
# shorter word, are taken as one family.
FAMILY_ENDING = 3
FAMILY_STEM = 6
_TOKEN = re.compile(r"[a-z]+")
_STOPWORDS = frozenset((
    "a", "an", "and", "any", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in",
    "into", "is", "it", "its", "of", "on", "one", "or", "someone", "something", "that", "the",
    "their", "them", "this", "to", "used", "usually", "very", "was", "which", "who", "whom",
    "with", "without",
))  # fmt: skip


def shares_synset(wordnet: WordNet, word: str, other: str) -> bool:
    """Whether the two words share any meaning (WordNet synonyms in some sense)."""
    ids = {s.id for s in wordnet.synsets(word)}
    return any(s.id in ids for s in wordnet.synsets(other))


def fits(wordnet: WordNet, word: str, pos: str, meaning: Synset) -> bool:
    """Whether `meaning`'s definition could be read as defining `word` in one of its senses."""
    return any(_near(wordnet, sense, meaning) for sense in wordnet.synsets(word, pos))


def mentions(text: str, word: str) -> bool:
    """Whether `text` contains `word`, a word of the same stem, or one that shares a good
    part of it ("not known" gives away "unknown", "protecting" "overprotection")."""
    word = word.lower()
    # Longer function words count here: "not yet used" gives away "unused".
    tokens = set(content_words(text)) | {t for t in _TOKEN.findall(text.lower()) if len(t) >= 4}
    return any(shares_stem(token, word) or _shares_part(token, word) for token in tokens)


def shares_stem(a: str, b: str) -> bool:
    """Same word family by spelling: "happy"/"happiness", "decide"/"decision",
    "respiration"/"respiratory", "punitive"/"punishment". Errs towards yes ("tree"/"trek"),
    which only ever rejects a question."""
    a, b = a.lower(), b.lower()
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    shorter = min(len(a), len(b))
    return common >= 3 and (
        common >= shorter - FAMILY_ENDING or common >= FAMILY_STEM or (common >= 4 and 2 * common >= shorter)
    )


def judged_apart(options: Iterable[str]) -> bool:
    """Whether no two options could be taken for one another: as typed answers (case,
    accents, articles), by stem, by spelling, or one inside the other ("happy"/"unhappy")."""
    forms = [normalize_typed(o) for o in options]
    if len(set(forms)) != len(forms) or not all(forms):
        return False
    return not any(look_alike(a, b) for i, a in enumerate(forms) for b in forms[i + 1 :])


def look_alike(a: str, b: str) -> bool:
    return shares_stem(a, b) or a in b or b in a or SequenceMatcher(None, a, b).ratio() >= MAX_LIKENESS


def content_words(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if len(t) >= 3 and t not in _STOPWORDS]


def _near(wordnet: WordNet, sense: Synset, meaning: Synset) -> bool:
    if sense.id == meaning.id:
        return True
    sense_near, meaning_near = _linked(sense, NEAR_POINTERS), _linked(meaning, NEAR_POINTERS)
    # Two adjectives of one cluster share its head through "similar to" links.
    if meaning.id in sense_near or sense.id in meaning_near or sense_near & meaning_near:
        return True
    if meaning.id in _ancestors(wordnet, sense, depth=None):
        return True
    if sense.id in _ancestors(wordnet, meaning, depth=GENERAL_DEPTH):
        return True
    # Definitions that share a content word ("run away quickly", "move away") may describe
    # one thing in two ways; there are enough other words to leave these out.
    return bool(set(content_words(sense.definition)) & set(content_words(meaning.definition)))


def _linked(synset: Synset, symbols: frozenset[str]) -> set[str]:
    return {target for symbol, target in synset.pointers if symbol in symbols}


def _ancestors(wordnet: WordNet, synset: Synset, depth: int | None) -> set[str]:
    seen: set[str] = set()
    frontier = _linked(synset, HYPERNYM_POINTERS)
    level = 1
    while frontier and (depth is None or level <= depth):
        seen |= frontier
        frontier = {t for s in frontier for t in _linked(wordnet.synset(s), HYPERNYM_POINTERS)} - seen
        level += 1
    return seen


def _shares_part(a: str, b: str) -> bool:
    if min(len(a), len(b)) >= 4 and (a in b or b in a):
        return True
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    ends_both = match.a + match.size == len(a) and match.b + match.size == len(b)
    return match.size >= MIN_SHARED_PART and not ends_both


def rivals(wordnet: WordNet, meaning: Synset, depth: int = GENERAL_DEPTH) -> list[str]:
    """Words of nearby meanings that a player could fairly type for `meaning`'s definition:
    near meanings, kinds of it (`depth` levels down) and more general words (`depth` up)."""
    ids = _linked(meaning, NEAR_POINTERS) | _ancestors(wordnet, meaning, depth)
    frontier = _linked(meaning, HYPONYM_POINTERS)
    for _ in range(depth):
        ids |= frontier
        frontier = {t for s in frontier for t in _linked(wordnet.synset(s), HYPONYM_POINTERS)} - ids
    return sorted({word.lower() for synset_id in ids for word in wordnet.synset(synset_id).words})
