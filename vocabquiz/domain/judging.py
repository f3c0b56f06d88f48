"""Whether a player's answer is right: exact for multiple choice, forgiving for typed answers.

Typed answers are compared by their `normalize_typed` form, built by these rules:

1. Unicode NFKC, then case folding ("STRASSE" == "Straße"), then accents and other diacritics
   are stripped ("café" == "cafe", "naïve" == "naive"). Marks that are letters of their own
   script (Devanagari vowel signs, Japanese dakuten) are kept.
2. Apostrophes, straight or curly, are dropped ("don't" == "dont"); hyphens and all other
   punctuation become spaces ("well-being" == "well being", "Paris!" == "paris").
3. Whitespace runs collapse to one space and the ends are trimmed.
4. Leading English articles and the infinitive "to" are dropped while another word follows
   ("the dog" == "dog", "to run" == "run"; a lone "a" stays "a").
5. An answer is right when it equals an accepted answer, or is one typo away from one (a
   character inserted, deleted or replaced, or two neighbours swapped) and that accepted
   answer has at least 5 letters; shorter accepted answers must match exactly.
6. An answer that normalizes to nothing is never right.

Multiple-choice answers must equal an option up to surrounding whitespace, case and Unicode
composition: no typo is forgiven there.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

CHOICE = "choice"
TYPED = "typed"
MIN_LETTERS_FOR_TYPO = 5

# Only the generic diacritic blocks (and Hebrew/Arabic vowel points) are stripped: they are
# accents on a letter. Script-intrinsic marks such as Hindi vowel signs or the dakuten that
# turns か into が change the word, so they stay.
_DIACRITIC_RANGES = (
    (0x0300, 0x036F),
    (0x0591, 0x05C7),
    (0x064B, 0x065F),
    (0x0670, 0x0670),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)
_STRIP_DIACRITICS: dict[int, None] = {
    code: None
    for low, high in _DIACRITIC_RANGES
    for code in range(low, high + 1)
    if unicodedata.category(chr(code)).startswith("M")
}
# ' and its typographic look-alikes: right/left quote, modifier letter, grave, acute, prime.
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc`\u00b4\u2032")
_DROP_APOSTROPHES = dict.fromkeys(map(ord, _APOSTROPHES))
_LEADING_WORDS = frozenset({"the", "a", "an", "to"})


def fold(text: str) -> str:
    """NFKC, case-folded, diacritics stripped: the comparison form shared with display names."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    stripped = unicodedata.normalize("NFD", folded).translate(_STRIP_DIACRITICS)
    # Case folding can yield text that NFKC changes again (and vice versa); a second round
    # makes the result a fixed point, so normalizing twice never changes anything.
    return unicodedata.normalize("NFKC", stripped).casefold()


def normalize_typed(text: str) -> str:
    """The form typed answers are compared (and grouped) by; see the module docstring."""
    chars = []
    # Dropped before folding too, as NFKC turns an acute accent (U+00B4) into a space.
    for char in fold(text.translate(_DROP_APOSTROPHES)):
        if char in _APOSTROPHES:
            continue
        category = unicodedata.category(char)
        if char.isspace() or category.startswith("P"):
            chars.append(" ")
        elif not category.startswith("C"):
            chars.append(char)
    words = "".join(chars).split()
    while len(words) > 1 and words[0] in _LEADING_WORDS:
        del words[0]
    # Dropping an apostrophe can bring a letter and a mark together ("か'゙"): recompose them.
    return unicodedata.normalize("NFC", " ".join(words))


def is_correct(kind: str, answer: str, accepted: Sequence[str]) -> bool:
    """Whether `answer` is right for a question of `kind` ("choice" or "typed")."""
    if kind == CHOICE:
        given = choice_form(answer)
        return bool(given) and any(given == choice_form(option) for option in accepted)
    if kind == TYPED:
        typed = normalize_typed(answer)
        return bool(typed) and any(_typed_matches(typed, option) for option in accepted)
    raise ValueError(f"Unknown question kind {kind!r}; expected {CHOICE!r} or {TYPED!r}")


def choice_form(text: str) -> str:
    """The form a choice is compared by: case and surrounding spaces aside."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).strip().casefold())


# Every player's answer to a question is compared with the same few accepted answers, so
# their normalized forms are worth keeping; players' own answers are not cached.
@lru_cache(maxsize=1024)
def _accepted_form(option: str) -> tuple[str, bool]:
    normalized = normalize_typed(option)
    letters = sum(char.isalpha() for char in normalized)
    return normalized, letters >= MIN_LETTERS_FOR_TYPO


def _typed_matches(typed: str, option: str) -> bool:
    expected, forgives_typo = _accepted_form(option)
    if not expected:
        return False
    if typed == expected:
        return True
    return forgives_typo and _within_one_edit(typed, expected)


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance ≤ 1, in one pass from the first difference."""
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > 1:
        return False
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(b))
    if len(a) > len(b):
        return a[first + 1 :] == b[first:]
    if first == len(a):
        return True
    rest_equal = a[first + 1 :] == b[first + 1 :]
    swapped = a[first + 1 : first + 2] == b[first] and a[first] == b[first + 1 : first + 2]
    return rest_equal or (swapped and a[first + 2 :] == b[first + 2 :])
