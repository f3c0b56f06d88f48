"""`python -m quizgen.schema [--check]`: write schemas/quiz.schema.json from the schema the
functions validate with (vocabquiz/domain/quizfile.py), or check that the file matches it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vocabquiz.domain.quizfile import QUIZ_SCHEMA

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "quiz.schema.json"


def render_schema() -> str:
    return json.dumps(QUIZ_SCHEMA, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quizgen.schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = render_schema()
    if args.check:
        if not SCHEMA_FILE.is_file() or SCHEMA_FILE.read_text(encoding="utf-8") != text:
            print(f"{SCHEMA_FILE} is out of date: run python -m quizgen.schema", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.parent.mkdir(exist_ok=True)
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
