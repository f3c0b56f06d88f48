"""The words a quiz may use: single English words with a CEFR level, seen in WordNet's
sense-tagged corpus (which leaves out rarities such as "nonabsorbent"), and with a plainly
worded primary meaning; by level and part of speech."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from quizgen.levels import Levels
from quizgen.wordnet import POS_FILES, Synset, WordNet

WORD = re.compile(r"[a-z]{3,20}")
MAX_DEFINITION_CHARS = 100
# Definitions quoting with WordNet's `...' style or citing abbreviations read badly on a quiz screen.
_ODD_DEFINITION = re.compile(r"[`\[\]]|\be\.g\.|\bi\.e\.|\d")


@dataclass(frozen=True, slots=True)
class Entry:
    word: str
    pos: str
    level: str
    sense: Synset  # the word's most frequent meaning as `pos`


class Lexicon:
    def __init__(self, wordnet: WordNet, levels: Levels) -> None:
        self.wordnet = wordnet
        self._levels = levels
        self._entries: dict[tuple[str, str], list[Entry]] = {}
        self._unfit = _unfit_words()

    @classmethod
    def load(cls) -> Lexicon:
        return cls(WordNet.load(), Levels())

    def level(self, word: str, pos: str) -> str | None:
        return self._levels.level(word, pos)

    def lowest_level(self, word: str) -> str | None:
        """The word's lowest level as any part of speech (see Levels.lowest)."""
        return self._levels.lowest(word)

    def entries(self, level: str, pos: str) -> list[Entry]:
        """Usable words of `level` as `pos`, in alphabetical order."""
        key = (level, pos)
        if key not in self._entries:
            words = sorted(
                w for w in self.wordnet.words(pos) if self.level(w, pos) == level and WORD.fullmatch(w)
            )
            self._entries[key] = [e for e in (self._entry(w, pos, level) for w in words) if e is not None]
        return self._entries[key]

    def all_entries(self, level: str) -> list[Entry]:
        return [entry for pos in POS_FILES for entry in self.entries(level, pos)]

    def is_fit(self, text: str) -> bool:
        """Whether the text has no word from the profanity list (shown on a shared screen)."""
        return not any(token in self._unfit for token in re.findall(r"[a-z]+", text.lower()))

    def _entry(self, word: str, pos: str, level: str) -> Entry | None:
        sense = self.wordnet.primary(word, pos)
        if sense is None or not self.wordnet.tagged_senses(word, pos):
            return None
        # A primary meaning spelled otherwise ("china" as "China") is a name, not the word.
        if word not in sense.words or not self._plain(sense.definition) or not self.is_fit(word):
            return None
        return Entry(word, pos, level, sense)

    def _plain(self, definition: str) -> bool:
        return (
            0 < len(definition) <= MAX_DEFINITION_CHARS
            and not _ODD_DEFINITION.search(definition)
            and self.is_fit(definition)
        )


def _unfit_words() -> frozenset[str]:
    wordlist = resources.files("better_profanity").joinpath("profanity_wordlist.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in wordlist.splitlines() if line.strip())
