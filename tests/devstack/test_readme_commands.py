"""The README's "The two commands" section, run as written: every command in it is read
from the README (so the two cannot drift apart) and either run here, against `make run`
started as a newcomer starts it, or named with where it is covered instead."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from devstack.endpoints import ROOT
from tests.devstack.conftest import MakeRun

SECTION = "## The two commands"
# A command: optional VAR=value settings, then make or the venv's python.
COMMAND = re.compile(r"^(?:[A-Z_]+=\S+ )*(?:make|\.venv/bin/python) ")

# Covered elsewhere, and why not here.
NOT_RUN_HERE = {
    "make run": "the make_run fixture runs it as written (on ports of its own)",
    "DEVSTACK_CONFIG=other.json make run": "the make_run fixture runs it so, with its own ports file",
    "make test": "the command this test runs under",
    "make unit": "its tests run under make test",
    "make package": "writes build/ in the tree; tests/infra/test_functions_package.py checks the zip",
    "make lock": "re-pins requirements.lock from PyPI",
    "make web-vendor": "tests/web/test_vendor_firebase.py runs it and compares the bytes",
    "make bench-gateway": "about 6 minutes",
    "make bench-faults": "about 30 minutes; tests/faults/test_ledger.py plays a 300-answer version",
}
RUN_HERE = (
    "make demo",
    ".venv/bin/python -m bots.swarm --players 200",
    "make quiz LEVEL=B2 N=10 > quiz.json",
    ".venv/bin/python -m quizgen.importer quiz.json",
)


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    section = text[start : text.index("\n## ", start + len(SECTION))]
    fenced = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    lines = [line.split("#")[0].strip() for block in fenced for line in block.splitlines()]
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", section, flags=re.DOTALL))
    found = [c for c in [*lines, *inline] if COMMAND.match(c + " ")]
    return list(dict.fromkeys(c.strip() for c in found))


def test_every_command_in_the_section_is_run_here_or_says_where_it_is_covered() -> None:
    commands = readme_commands()
    assert "make run" in commands and "make demo" in commands  # the parse found the section
    assert set(commands) == set(RUN_HERE) | set(NOT_RUN_HERE), commands


def shell(command: str, make_run: MakeRun, timeout_s: float = 240) -> subprocess.CompletedProcess[str]:
    """The command as a newcomer's shell runs it: from the repository, with the
    environment a shell has (pointed at the stack under test by DEVSTACK_CONFIG)."""
    return subprocess.run(
        ["bash", "-c", f"cd {ROOT} && {command}"],
        env=make_run.env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.mark.stack
def test_the_sections_commands_work_as_written(make_run: MakeRun, tmp_path: Path) -> None:
    demo = shell("make demo", make_run)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Final standings:" in demo.stdout and "joined" in demo.stdout
    assert "Missed words (each player's review):" in demo.stdout and "Hardest for the class:" in demo.stdout

    swarm = shell(".venv/bin/python -m bots.swarm --players 200", make_run)
    assert swarm.returncode == 0, swarm.stderr[-3000:]
    assert "Joining 200 players to 1 session(s)" in swarm.stdout

    # quiz.json, as written, lands in the repository: a name of this test's own instead.
    quiz_file = f"quiz-{tmp_path.name}.json"
    try:
        made = shell(f"make quiz LEVEL=B2 N=10 > {quiz_file}", make_run)
        assert made.returncode == 0, made.stderr[-3000:]
        quiz = json.loads((ROOT / quiz_file).read_text())  # nothing but the quiz on stdout
        assert len(quiz["questions"]) == 10

        imported = shell(f".venv/bin/python -m quizgen.importer {quiz_file}", make_run)
        assert imported.returncode == 0, imported.stderr[-3000:]
        assert f"imported {quiz['id']}: 10 questions" in imported.stdout
        # Into the stack under test (its ports file), not emulator.json's.
        assert f"Firestore emulator at {make_run.endpoints['firestore'].address}" in imported.stderr
    finally:
        (ROOT / quiz_file).unlink(missing_ok=True)
