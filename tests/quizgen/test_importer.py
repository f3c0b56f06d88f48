"""The quiz importer: every file checked first; nothing written unless all are valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from quizgen.importer import EXIT_INVALID, import_files, main
from vocabquiz.domain.model import Quiz


class MemoryStore:
    """The one Store method the importer uses, in memory."""

    def __init__(self) -> None:
        self.saved: list[Quiz] = []

    def save_quiz(self, quiz: Quiz) -> None:
        self.saved.append(quiz)


def write_quiz(folder: Path, quiz_id: str, **changes: Any) -> Path:
    data = {
        "id": quiz_id,
        "title": f"Quiz {quiz_id}",
        "questions": [{"id": "q1", "kind": "typed", "text": "Say hi", "accepted": ["hi"], **changes}],
    }
    path = folder / f"{quiz_id}.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def test_importer_saves_every_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = MemoryStore()
    paths = [write_quiz(tmp_path, "one"), write_quiz(tmp_path, "two")]
    assert import_files(paths, lambda: store) == 0
    assert [quiz.id for quiz in store.saved] == ["one", "two"]
    assert "imported two: 1 questions" in capsys.readouterr().out


def test_importer_given_one_invalid_file_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = MemoryStore()
    paths = [write_quiz(tmp_path, "good"), write_quiz(tmp_path, "bad", points=0)]
    assert import_files(paths, lambda: store) == EXIT_INVALID
    assert store.saved == []
    err = capsys.readouterr().err
    assert f"{paths[1]}:" in err and "$.questions[0].points: must be at least 1" in err
    assert "nothing was imported" in err


def test_importer_reports_bad_json_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "id": "x",\n  "title": "T",\n}\n', encoding="utf-8")
    assert import_files([path], MemoryStore) == EXIT_INVALID
    assert f"{path}:4:1: invalid JSON" in capsys.readouterr().err


def test_importer_refuses_two_files_with_one_quiz_id(tmp_path: Path) -> None:
    first = write_quiz(tmp_path, "same")
    second = tmp_path / "copy.json"
    second.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    store = MemoryStore()
    assert import_files([first, second], lambda: store) == EXIT_INVALID
    assert store.saved == []


def test_importer_dry_run_checks_without_connecting(tmp_path: Path) -> None:
    def connect() -> MemoryStore:
        raise AssertionError("a dry run must not connect to Firestore")

    assert import_files([write_quiz(tmp_path, "dry")], connect, dry_run=True) == 0


def test_importer_command_exits_2_for_a_missing_file_without_touching_firestore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "absent.json")]) == EXIT_INVALID
    assert "cannot read" in capsys.readouterr().err
