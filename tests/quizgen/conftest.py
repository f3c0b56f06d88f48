"""Fixtures of the quiz-tools tests: the lexical databases, read once per run (about 2 s)."""

from __future__ import annotations

import pytest

from quizgen.lexicon import Lexicon
from quizgen.wordnet import WordNet


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    # No skip when WordNet is missing: a machine without it must fail loudly, naming the
    # package to install (see quizgen.wordnet.INSTALL_HINT).
    return Lexicon.load()


@pytest.fixture(scope="session")
def wordnet(lexicon: Lexicon) -> WordNet:
    return lexicon.wordnet
