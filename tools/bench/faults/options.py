"""The ledger run's knobs: what it plays (answers, players, questions), which faults it
injects and how hard, and the command line that sets them."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

RIGHT = "right"
OPTIONS = [RIGHT, "wrong", "other", "none"]
CORRECT_SHARE = 0.7
MAX_QUIZ_QUESTIONS = 200  # the quiz file schema's limit
CHAOS = frozenset({"kill", "freeze", "gateway", "flush"})


@dataclass
class Options:
    answers: int = 300
    players: int = 25  # per session
    max_questions: int = 100  # per session; more sessions run side by side beyond it
    time_limit_s: int = 20  # the host moves on as soon as every answer is scored
    seed: int = 7
    copies: int = 2  # extra publishes of every command
    late_copy_share: float = 0.03  # copies held back until long after their question closed
    fail_after_commit: float = 0.2
    # kill: on_command SIGKILLed and restarted; freeze: emulators SIGSTOPped; gateway: one
    # SIGKILLed; flush: flush tasks delivered twice. (Copies and 500s have their own knobs.)
    chaos: frozenset[str] = CHAOS
    freeze_s: float = 3.0
    score_timeout_s: float = 90.0
    progress: bool = True

    def plan(self) -> tuple[int, int]:
        """(sessions, questions per session) covering at least `answers` answers."""
        questions = max(1, math.ceil(self.answers / self.players))
        per_session = min(self.max_questions, MAX_QUIZ_QUESTIONS)
        sessions = math.ceil(questions / per_session)
        return sessions, math.ceil(questions / sessions)


def options_from_args(description: str, argv: list[str] | None = None) -> tuple[Options, Path | None]:
    """(the options, where to write the report as JSON) from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = Options()
    parser.add_argument("--answers", type=int, default=defaults.answers)
    parser.add_argument("--players", type=int, default=defaults.players, help="per session")
    parser.add_argument("--max-questions", type=int, default=defaults.max_questions, help="per session")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--copies", type=int, default=defaults.copies, help="extra publishes per command")
    parser.add_argument("--fail-after-commit", type=float, default=defaults.fail_after_commit)
    parser.add_argument("--freeze", type=float, default=defaults.freeze_s, help="seconds per emulator freeze")
    parser.add_argument(
        "--chaos",
        default=",".join(sorted(CHAOS)),
        help=f"comma-separated, from {','.join(sorted(CHAOS))}, or 'none'",
    )
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    chaos = frozenset() if args.chaos == "none" else frozenset(args.chaos.split(","))
    if chaos - CHAOS:
        parser.error(f"unknown chaos: {', '.join(sorted(chaos - CHAOS))}")
    options = Options(
        answers=args.answers,
        players=args.players,
        max_questions=args.max_questions,
        seed=args.seed,
        copies=args.copies,
        fail_after_commit=args.fail_after_commit,
        freeze_s=args.freeze,
        chaos=chaos,
    )
    return options, args.json
