"""Reading an Anki deck as Anki would: an `.apkg` is a zip holding a SQLite collection,
`collection.anki2`, whose `notes` table has each note's fields, HTML, joined by 0x1f."""

from __future__ import annotations

import html
import io
import sqlite3
import tempfile
import zipfile
from pathlib import Path


def anki_notes(apkg: bytes) -> list[list[str]]:
    """Every note's fields as text, in the order the notes were added."""
    with zipfile.ZipFile(io.BytesIO(apkg)) as deck, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection.anki2"
        path.write_bytes(deck.read("collection.anki2"))
        connection = sqlite3.connect(path)
        try:
            notes = connection.execute("SELECT flds FROM notes ORDER BY id").fetchall()
        finally:
            connection.close()
    return [[html.unescape(field) for field in flds.split("\x1f")] for (flds,) in notes]
