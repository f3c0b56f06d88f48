"""The WordNet reader, on a two-synset database written here and on the installed one."""

from __future__ import annotations

from pathlib import Path

import pytest

from quizgen.errors import DataMissing
from quizgen.wordnet import WordNet

HEADER = "  1 This software and database is being provided to you, the LICENSEE, by  \n"
DATA_ADJ = (
    "00001740 00 a 02 happy 0 glad(p) 0 001 & 00002000 s 0000 "
    '| enjoying or showing joy; "a happy smile"; "glad to help"  \n'
    "00002000 00 s 01 elated 0 001 & 00001740 a 0000 | exultantly proud and joyful; in high spirits  \n"
)
INDEX_ADJ = "happy a 1 1 & 1 1 00001740  \nelated a 1 1 & 1 0 00002000  \nglad a 1 1 & 1 1 00001740  \n"
DATA_NOUN = (
    "00003000 00 n 01 stride 0 000 | significant progress (especially in the phrase "
    '"make strides"); "the team made strides; the fans saw it"; '
    '"the harder the conflict the more glorious the triumph"--Thomas Paine; "strides were made"  \n'
)


def tiny_wordnet(folder: Path) -> WordNet:
    data = {"adj": DATA_ADJ, "noun": DATA_NOUN}
    for name in ("noun", "verb", "adj", "adv"):
        (folder / f"data.{name}").write_text(HEADER + data.get(name, ""), encoding="utf-8")
        (folder / f"index.{name}").write_text(HEADER + (INDEX_ADJ if name == "adj" else ""), encoding="utf-8")
    return WordNet.load(folder)


def test_reader_parses_words_definition_examples_and_pointers(tmp_path: Path) -> None:
    happy = tiny_wordnet(tmp_path).primary("happy", "a")
    assert happy is not None
    assert happy.id == "a00001740" and happy.words == ("happy", "glad")
    assert happy.definition == "enjoying or showing joy"
    assert happy.examples == ("a happy smile", "glad to help")
    assert happy.pointers == (("&", "a00002000"),)


def test_reader_files_satellite_adjectives_and_splits_definitions(tmp_path: Path) -> None:
    wordnet = tiny_wordnet(tmp_path)
    elated = wordnet.synsets("Elated")[0]
    assert (elated.pos, elated.definition) == ("a", "exultantly proud and joyful; in high spirits")
    assert wordnet.tagged_senses("elated", "a") == 0 and wordnet.tagged_senses("happy", "a") == 1
    assert sorted(wordnet.words("a")) == ["elated", "glad", "happy"]


def test_reader_keeps_examples_that_hold_semicolons_and_drops_quotations_with_a_source(
    tmp_path: Path,
) -> None:
    """A quote inside brackets belongs to the definition; "; " inside an example does not
    end it; a quotation followed by its source ("--Thomas Paine") is left out."""
    stride = tiny_wordnet(tmp_path).synset("n00003000")
    assert stride.definition == 'significant progress (especially in the phrase "make strides")'
    assert stride.examples == ("the team made strides; the fans saw it", "strides were made")


def test_reader_finds_the_words_an_inflection_is_a_form_of(wordnet: WordNet) -> None:
    """WordNet's irregular forms (*.exc) and suffix rules, kept only when WordNet has the word."""
    assert wordnet.base_forms("ran") == {"run"}
    assert wordnet.base_forms("children") == {"child"}
    assert "cube" in wordnet.base_forms("cubes") and "squar" not in wordnet.base_forms("squares")
    assert wordnet.base_forms("zzzs") == set()


def test_reader_without_the_database_names_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(DataMissing, match="apt-get install wordnet-base"):
        WordNet.load(tmp_path)


def test_installed_wordnet_is_version_3_0(wordnet: WordNet) -> None:
    """The committed quizzes were generated from WordNet 3.0 (Debian's wordnet-base)."""
    dog = wordnet.primary("dog", "n")
    assert dog is not None and dog.id == "n02084071"
