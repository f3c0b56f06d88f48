"""Anki decks (`.apkg`: a SQLite collection in a zip) of quiz words, built with genanki.

A note's front is the word; its back the meaning and, where the quiz has one, an example
sentence. A note's id (its GUID) is the quiz and question, so importing a second deck of
the same words (a later game's missed words, the whole quiz) updates the cards a learner
has rather than adding copies.
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

import genanki

from vocabquiz.domain.model import Question, Quiz
from vocabquiz.domain.review import card

# Anki tells note types apart by id: this one's must never change.
_MODEL = genanki.Model(
    1_607_392_319,
    "Vocabulary quiz word",
    fields=[{"name": "Word"}, {"name": "Meaning"}, {"name": "Example"}],
    templates=[
        {
            "name": "Word → meaning",
            "qfmt": '<div class="word">{{Word}}</div>',
            "afmt": '{{FrontSide}}<hr id="answer"><div class="meaning">{{Meaning}}</div>'
            '{{#Example}}<div class="example">{{Example}}</div>{{/Example}}',
        }
    ],
    css=".card { font-family: sans-serif; font-size: 22px; text-align: center; }"
    " .word { font-size: 32px; font-weight: bold; } .example { font-style: italic; margin-top: 1em; }",
)


def quiz_deck(quiz: Quiz, *, timestamp: float | None = None) -> bytes:
    """Every question of the quiz, in its order."""
    return _package(f"{quiz.title} (vocabulary quiz)", ("quiz", quiz.id), quiz.id, quiz.questions, timestamp)


def missed_deck(
    quiz: Quiz, session_id: str, uid: str, questions: Iterable[Question], *, timestamp: float | None = None
) -> bytes:
    """A player's missed words of one session: a deck of its own per player and session."""
    name = f"{quiz.title}: missed words (session {session_id})"
    return _package(name, ("missed", session_id, uid), quiz.id, questions, timestamp)


def _package(
    name: str, identity: tuple[str, ...], quiz_id: str, questions: Iterable[Question], timestamp: float | None
) -> bytes:
    deck = genanki.Deck(_deck_id(identity), name)
    for question in questions:
        word = card(question)
        deck.add_note(
            genanki.Note(
                model=_MODEL,
                fields=[_html(word.word), _html(word.meaning), _html(word.example)],
                guid=genanki.guid_for(quiz_id, question.id),
            )
        )
    return _write(genanki.Package(deck), time.time() if timestamp is None else timestamp)


def _write(package: genanki.Package, timestamp: float) -> bytes:
    """Package.write_to_file, in memory, without the temporary file it leaves behind
    (on Cloud Functions /tmp is memory)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection.anki2"
        connection = sqlite3.connect(path)
        try:
            package.write_to_db(connection.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
            connection.commit()
        finally:
            connection.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as apkg:
            apkg.write(path, "collection.anki2")
            apkg.writestr("media", "{}")
        return out.getvalue()


def _html(text: str) -> str:
    """Anki shows fields as HTML: a quiz's text shows as written."""
    return html.escape(text, quote=False)


def _deck_id(identity: tuple[str, ...]) -> int:
    """Stable, so importing the same deck again updates it; in Anki's id range."""
    digest = hashlib.sha256("\x1f".join(identity).encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)
