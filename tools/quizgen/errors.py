"""Errors of the quiz tools: one base class, a subclass per case a caller acts on."""

from __future__ import annotations


class QuizgenError(Exception):
    """Anything the quiz tools refuse to do; the message is meant for the person at the terminal."""


class DataMissing(QuizgenError):
    """A lexical database is not installed where it is looked for."""


class NotEnoughWords(QuizgenError):
    """The level has too few usable words for the number of questions asked."""
