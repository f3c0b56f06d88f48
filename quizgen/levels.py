"""CEFR levels (A1-C2) of English words by part of speech, from the cefrpy word list."""

from __future__ import annotations

from cefrpy import CEFRAnalyzer

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
# WordNet's parts of speech as the Penn tags cefrpy files its levels under.
PENN_TAGS = {"n": "NN", "v": "VB", "a": "JJ", "r": "RB"}


class Levels:
    def __init__(self) -> None:
        self._analyzer = CEFRAnalyzer()
        self._max_length = self._analyzer.get_max_word_len()

    def level(self, word: str, pos: str) -> str | None:
        """The word's level as `pos` ("n", "v", "a" or "r"), or None when cefrpy has none."""
        if len(word) >= self._max_length:
            return None  # cefrpy reads past its data for words of its maximum length
        found = self._analyzer.get_word_pos_level_CEFR(word, PENN_TAGS[pos])
        return None if found is None else str(found)


def parse_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {text!r}")
    return level
