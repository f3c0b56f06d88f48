"""A reader for the WordNet 3.0 database files (index.* and data.*), as Debian's
`wordnet-base` installs them in /usr/share/wordnet: synsets with their words, definition,
examples and pointers, and each word's senses in WordNet's frequency order."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from quizgen.errors import DataMissing

DEFAULT_DIR = Path("/usr/share/wordnet")
DIR_VARIABLE = "WORDNET_DIR"
INSTALL_HINT = "apt-get install wordnet-base (WordNet 3.0), or set WORDNET_DIR to a WordNet dict/ folder"
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# morphy's suffix rules (WordNet's morphy(7)) by part of speech: (ending, base).
_DETACHMENTS = {
    "n": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
          ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
          ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
}  # fmt: skip
# A quotation's source after its closing quote: "..."--Thomas Paine, "..."- Bible.
_ATTRIBUTION = re.compile(r"\s*-")


@dataclass(frozen=True, slots=True)
class Synset:
    """One meaning: `id` is the part of speech and byte offset, e.g. "a01148283"."""

    id: str
    pos: str
    words: tuple[str, ...]  # as WordNet spells them, "_" read as a space, markers like "(a)" dropped
    definition: str
    examples: tuple[str, ...]
    pointers: tuple[tuple[str, str], ...]  # (symbol, target synset id), e.g. ("@", "n02084071")


class WordNet:
    """The database, read once; a synset is parsed when first asked for."""

    def __init__(
        self,
        lines: dict[str, str],
        senses: dict[tuple[str, str], tuple[str, ...]],
        tagged: dict[tuple[str, str], int],
        exceptions: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self._lines = lines
        self._senses = senses
        self._tagged = tagged
        self._exceptions = exceptions or {}
        self._parsed: dict[str, Synset] = {}

    @classmethod
    def load(cls, directory: Path | None = None) -> WordNet:
        folder = directory or Path(os.environ.get(DIR_VARIABLE) or DEFAULT_DIR)
        if not (folder / "data.noun").is_file():
            raise DataMissing(f"WordNet database not found in {folder}: {INSTALL_HINT}")
        lines: dict[str, str] = {}
        senses: dict[tuple[str, str], tuple[str, ...]] = {}
        tagged: dict[tuple[str, str], int] = {}
        for pos, name in POS_FILES.items():
            for line in _records(folder / f"data.{name}"):
                lines[pos + line[:8]] = line
            for line in _records(folder / f"index.{name}"):
                fields = line.split()
                lemma, pointer_count = fields[0], int(fields[3])
                key = (lemma.replace("_", " "), pos)
                senses[key] = tuple(pos + offset for offset in fields[6 + pointer_count :])
                tagged[key] = int(fields[5 + pointer_count])
        exceptions: dict[str, set[str]] = {}
        for name in POS_FILES.values():
            path = folder / f"{name}.exc"
            for line in _records(path) if path.is_file() else ():
                inflected, *bases = line.split()
                exceptions.setdefault(inflected, set()).update(b.replace("_", " ") for b in bases)
        return cls(lines, senses, tagged, {k: frozenset(v) for k, v in exceptions.items()})

    def synset(self, synset_id: str) -> Synset:
        synset = self._parsed.get(synset_id)
        if synset is None:
            synset = self._parsed[synset_id] = _parse_synset(self._lines[synset_id])
        return synset

    def synsets(self, word: str, pos: str | None = None) -> list[Synset]:
        """The meanings of `word` (any case), most frequent first; all parts of speech by default."""
        key = word.lower()
        return [
            self.synset(synset_id)
            for p in ([pos] if pos else POS_FILES)
            for synset_id in self._senses.get((key, p), ())
        ]

    def primary(self, word: str, pos: str) -> Synset | None:
        """The most frequent meaning of `word` as `pos`, if it has one."""
        ids = self._senses.get((word.lower(), pos))
        return self.synset(ids[0]) if ids else None

    def tagged_senses(self, word: str, pos: str) -> int:
        """How many of the word's meanings occur in WordNet's sense-tagged corpus (SemCor):
        0 for words too rare to have been seen there."""
        return self._tagged.get((word.lower(), pos), 0)

    def base_forms(self, word: str) -> set[str]:
        """The WordNet words that `word` is an inflection of, or is ("ran": "run", "cubes":
        "cube", "better": "good", "well"): WordNet's own morphology (morphy), the irregular
        forms of its *.exc lists and its suffix rules, for every part of speech."""
        word = word.lower()
        forms = {form for form in (word, *self._exceptions.get(word, ())) if self._is_word(form)}
        for pos, rules in _DETACHMENTS.items():
            bases = (word[: -len(ending)] + suffix for ending, suffix in rules if word.endswith(ending))
            forms |= {base for base in bases if base and (base, pos) in self._senses}
        return forms

    def _is_word(self, form: str) -> bool:
        return any((form, pos) in self._senses for pos in POS_FILES)

    def words(self, pos: str) -> Iterator[str]:
        """Every word (lower case) that has a meaning as `pos`."""
        return (word for word, p in self._senses if p == pos)


def _records(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("  "):  # the licence header lines start with two spaces
                yield line.rstrip("\n")


def _parse_synset(line: str) -> Synset:
    data, _, gloss = line.partition(" | ")
    fields = data.split()
    pos = "a" if fields[2] == "s" else fields[2]  # adjective satellites live in data.adj
    word_count = int(fields[3], 16)
    words = tuple(_clean_word(w) for w in fields[4 : 4 + 2 * word_count : 2])
    at = 4 + 2 * word_count
    pointer_count = int(fields[at])
    pointers = tuple(
        (fields[i], ("a" if fields[i + 2] == "s" else fields[i + 2]) + fields[i + 1])
        for i in range(at + 1, at + 1 + 4 * pointer_count, 4)
    )
    definition, examples = _split_gloss(gloss.strip())
    return Synset(pos + fields[0], pos, words, definition, examples, pointers)


def _clean_word(word: str) -> str:
    # Adjectives may carry a syntactic marker: "galore(ip)", "elect(p)".
    return word.split("(", 1)[0].replace("_", " ")


def _split_gloss(gloss: str) -> tuple[str, tuple[str, ...]]:
    """A gloss is the definition(s), separated by "; ", then examples in double quotes. The
    definition ends at the first quote outside brackets ("(as in the phrase "make strides")"
    stays in it); an example may itself hold "; " and may be a quotation with its source
    after it, which is left out (often archaic: "seven thin and ill-favored kine"- Bible)."""
    depth, start = 0, len(gloss)
    for i, char in enumerate(gloss):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == '"' and depth <= 0:
            start = i
            break
    definition = gloss[:start].strip().rstrip(";:,").strip()
    examples = []
    rest = gloss[start:]
    while (opening := rest.find('"')) >= 0:
        closing = rest.find('"', opening + 1)
        if closing < 0:
            break
        example, rest = rest[opening + 1 : closing].strip(), rest[closing + 1 :]
        if example and not _ATTRIBUTION.match(rest):
            examples.append(example)
    return definition, tuple(examples)
