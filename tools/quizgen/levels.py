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
        self._levels = {
            (word, tags[tag]): str(level)
            for word, tag, level in CEFRAnalyzer().yield_word_pos_level(pos_tag_as_string=True)
            if tag in tags
        }

    def level(self, word: str, pos: str) -> str | None:
        """The word's level as `pos` ("n", "v", "a" or "r"), or None when cefrpy has none."""
        return self._levels.get((word.lower(), pos))
