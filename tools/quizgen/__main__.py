"""`python -m quizgen LEVEL N [--seed S] [--id ID] [--out FILE]`: a vocabulary quiz of N
questions on words of CEFR level LEVEL, as quiz-file JSON on stdout or in FILE."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from quizgen.errors import QuizgenError
from quizgen.generator import MAX_QUESTIONS, generate_quiz
from quizgen.levels import LEVELS
from quizgen.lexicon import Lexicon
from vocabquiz.domain.quizfile import quiz_from_dict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quizgen", description=__doc__)
    parser.add_argument("level", type=str.upper, choices=LEVELS, metavar="LEVEL", help=", ".join(LEVELS))
    parser.add_argument("count", type=int, metavar="N", help=f"number of questions, 1-{MAX_QUESTIONS}")
    parser.add_argument("--seed", type=int, help="the same seed gives the same quiz (default: random)")
    parser.add_argument("--id", dest="quiz_id", help="quiz id (default: generated-LEVEL-SEED)")
    parser.add_argument("--out", type=Path, help="write the quiz to this file instead of stdout")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= MAX_QUESTIONS:
        parser.error(f"N must be 1-{MAX_QUESTIONS}")
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    try:
        quiz = generate_quiz(Lexicon.load(), args.level, args.count, seed, args.quiz_id)
    except QuizgenError as exc:
        print(f"quizgen: {exc}", file=sys.stderr)
        return 1
    quiz_from_dict(quiz)  # what is written passes the checks every quiz file must
    text = json.dumps(quiz, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: quiz {quiz['id']!r}, {args.count} questions, seed {seed}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
