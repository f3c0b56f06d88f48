"""CEFR levels (A1-C2) of English words by part of speech, from the cefrpy word list."""

from __future__ import annotations

from cefrpy import CEFRAnalyzer

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
# WordNet's parts of speech as the Penn tags cefrpy files its levels under.
PENN_TAGS = {"n": "NN", "v": "VB", "a": "JJ", "r": "RB"}


class Levels:
    """The whole list read once: one pass over it is cheaper than a lookup per WordNet word."""

    def __init__(self) -> None:
        tags = {tag: pos for pos, tag in PENN_TAGS.items()}
        self._levels: dict[tuple[str, str], str] = {}
        self._lowest: dict[str, str] = {}
        for word, tag, level in CEFRAnalyzer().yield_word_pos_level(pos_tag_as_string=True):
            name = str(level)  # "A1" < "A2" < ... < "C2" as strings too
            if tag in tags:
                self._levels[(word, tags[tag])] = name
            if name < self._lowest.get(word, "D"):
                self._lowest[word] = name

    def level(self, word: str, pos: str) -> str | None:
        """The word's level as `pos` ("n", "v", "a" or "r"), or None when cefrpy has none."""
        return self._levels.get((word.lower(), pos))

    def lowest(self, word: str) -> str | None:
        """The word's lowest level under any of cefrpy's tags (inflected forms such as
        "squares" or "made" have their own), or None when cefrpy does not know it."""
        return self._lowest.get(word.lower())
