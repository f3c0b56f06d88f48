"""`python -m quizgen.importer FILE... [--dry-run] [--project P]`: check quiz files and
write them to Firestore through the functions' own store. Any invalid file: exit code 2,
each invalid file named with its first problem, nothing written.

The project is --project, else GOOGLE_CLOUD_PROJECT. With neither, the files go to the
local stack (`make run`): the Firestore emulator at FIRESTORE_EMULATOR_HOST, else the one
emulator.json names when it answers, in the stack's demo project.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from vocabquiz.domain.model import Quiz
from vocabquiz.domain.quizfile import QuizFileError, load_quiz_text

EXIT_INVALID = 2
EXIT_FAILED = 1


class QuizStore(Protocol):
    def save_quiz(self, quiz: Quiz) -> None: ...


def load_files(paths: Sequence[Path]) -> tuple[list[Quiz], list[str]]:
    """The quizzes in `paths`, and one message per problem (file, line and field)."""
    quizzes: list[Quiz] = []
    errors: list[str] = []
    first_file: dict[str, Path] = {}
    for path in paths:
        try:
            quiz = load_quiz_text(path.read_text(encoding="utf-8"), str(path))
        except QuizFileError as exc:
            errors.append(str(exc))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(f"{path}: cannot read: {exc}")
            continue
        earlier = first_file.setdefault(quiz.id, path)
        if earlier != path:
            errors.append(
                f"{path}: $.id: {quiz.id!r} is also the id of {earlier}; one would overwrite the other"
            )
            continue
        quizzes.append(quiz)
    return quizzes, errors


def import_files(paths: Sequence[Path], connect: Callable[[], QuizStore], *, dry_run: bool = False) -> int:
    """Check every file, then (unless `dry_run`) save them all; returns the exit code."""
    quizzes, errors = load_files(paths)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{len(errors)} problem(s) found: nothing was imported", file=sys.stderr)
        return EXIT_INVALID
    if dry_run:
        for quiz in quizzes:
            print(f"ok {quiz.id}: {len(quiz.questions)} questions (dry run: not written)")
        return 0
    store = connect()
    for quiz in quizzes:
        store.save_quiz(quiz)
        print(f"imported {quiz.id}: {len(quiz.questions)} questions")
    return 0


def firestore_store(project: str | None) -> QuizStore:
    from google.cloud import firestore

    from vocabquiz.adapters.store import Store

    if project is None:
        from devstack.endpoints import config_path, load_endpoints
        from devstack.processes import port_open
        from devstack.stack import PROJECT_ID

        if not os.environ.get("FIRESTORE_EMULATOR_HOST"):
            local = load_endpoints()["firestore"]
            if not port_open(local.host, local.port):
                raise SystemExit(
                    "quizgen.importer: no project and no local stack: pass --project (or set "
                    f"GOOGLE_CLOUD_PROJECT), or start `make run` (its Firestore: {local.address}, "
                    f"{config_path().name})"
                )
            os.environ["FIRESTORE_EMULATOR_HOST"] = local.address
        project = PROJECT_ID
        print(
            f"quizgen.importer: no --project: writing to the local stack's Firestore emulator at "
            f"{os.environ['FIRESTORE_EMULATOR_HOST']} (project {project})",
            file=sys.stderr,
        )
    return Store(firestore.Client(project=project))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quizgen.importer", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="quiz files (JSON)")
    parser.add_argument("--dry-run", action="store_true", help="check the files, write nothing")
    parser.add_argument(
        "--project", default=os.environ.get("GOOGLE_CLOUD_PROJECT"), help="Google Cloud project"
    )
    args = parser.parse_args(argv)
    try:
        return import_files(args.files, lambda: firestore_store(args.project), dry_run=args.dry_run)
    except Exception as exc:  # noqa: BLE001  a failed write is reported, not a traceback
        print(f"quizgen.importer: writing to Firestore failed: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
