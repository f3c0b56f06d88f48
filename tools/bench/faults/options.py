"""The ledger run's knobs: what it plays (answers, players, questions), which faults it
injects and how hard, and the command line that sets them."""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass
from pathlib import Path

RIGHT = "right"
OPTIONS = [RIGHT, "wrong", "other", "none"]
CORRECT_SHARE = 0.7
MAX_QUIZ_QUESTIONS = 200  # the quiz file schema's limit
# Faults fired at seeded random points of the run, one after another (chaos.py):
CHAOS = frozenset(
    {
        "kill",  # on_command SIGKILLed and restarted
        "freeze-firestore",  # the emulator SIGSTOPped, then SIGCONT
        "freeze-pubsub",
        "freeze-tasks",  # a Cloud Tasks outage
        "gateway-kill",  # SIGKILL with commands in flight; its players move
        "gateway-drain",  # SIGTERM: sockets closed with 1012 after the publishes in flight
        "gateway-pause",  # SIGSTOP, then SIGCONT: its players wait
        "events-lost",  # a gateway's quiz-events subscription deleted under it
        "disconnect-rejoin",  # players drop their socket and REJOIN elsewhere at once
    }
)
# Faults running all along (background.py, duplicator.py) or set in the processes.
BACKGROUND = frozenset({"flush", "timers", "events"})

# Kinds of question: most are answered well inside their time; some are answered around
# their deadline + grace, some around an early reveal by the host (the close race).
NORMAL, DEADLINE, REVEAL = "normal", "deadline", "reveal"
DEADLINE_LIMIT_S = 5  # the quiz file's shortest time limit


def question_kind(index: int, close_race: bool) -> str:
    if close_race and index % 10 == 3:
        return DEADLINE
    if close_race and index % 10 == 7:
        return REVEAL
    return NORMAL


def kind_of(question_id: str, close_race: bool) -> str:
    """The kind of the ledger quiz's question `q<i>` (sessions may shuffle the order)."""
    return question_kind(int(question_id.removeprefix("q")), close_race)


def early_reveal_ms(seed: int, session_id: str, index: int) -> int:
    """When the host reveals a REVEAL question, after its start: the host and its bots
    agree without talking."""
    return int(random.Random(f"{seed}/{session_id}/{index}").uniform(1200, 2600))


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
    lost_commit_reply: float = 0.03  # functions: a commit applied whose reply is lost
    lost_publish_reply: float = 0.03  # ledger gateways: a stored batch never acknowledged
    skew_ms: int = 80  # ledger gateways run +skew and -skew/2 off; the host API +skew/2
    close_race: bool = True  # DEADLINE and REVEAL questions (question_kind)
    chaos: frozenset[str] = CHAOS
    background: frozenset[str] = BACKGROUND
    faults_per_kind: int = 0  # how often each chaos fault fires; 0: one per ~1,000 answers
    fault_s: tuple[float, float] = (1.0, 6.0)  # how long a freeze or a pause lasts
    score_timeout_s: float = 90.0
    progress: bool = True

    def fault_count(self) -> int:
        return self.faults_per_kind or max(1, round(self.answers / 1000))

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
    parser.add_argument("--lost-commit-reply", type=float, default=defaults.lost_commit_reply)
    parser.add_argument("--lost-publish-reply", type=float, default=defaults.lost_publish_reply)
    parser.add_argument("--skew-ms", type=int, default=defaults.skew_ms, help="server clock skew")
    parser.add_argument("--no-close-race", action="store_true", help="only answers well inside the time")
    parser.add_argument("--faults-per-kind", type=int, default=0, help="0: one per ~1,000 answers")
    parser.add_argument(
        "--fault-s", type=float, nargs=2, default=defaults.fault_s, help="a freeze or pause lasts MIN..MAX s"
    )
    parser.add_argument(
        "--chaos",
        default=",".join(sorted(CHAOS)),
        help=f"comma-separated, from {','.join(sorted(CHAOS))}, or 'none'",
    )
    parser.add_argument(
        "--background",
        default=",".join(sorted(BACKGROUND)),
        help=f"comma-separated, from {','.join(sorted(BACKGROUND))}, or 'none'",
    )
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    chaos = frozenset() if args.chaos == "none" else frozenset(args.chaos.split(","))
    if chaos - CHAOS:
        parser.error(f"unknown chaos: {', '.join(sorted(chaos - CHAOS))}")
    background = frozenset() if args.background == "none" else frozenset(args.background.split(","))
    if background - BACKGROUND:
        parser.error(f"unknown background fault: {', '.join(sorted(background - BACKGROUND))}")
    options = Options(
        answers=args.answers,
        players=args.players,
        max_questions=args.max_questions,
        seed=args.seed,
        copies=args.copies,
        fail_after_commit=args.fail_after_commit,
        lost_commit_reply=args.lost_commit_reply,
        lost_publish_reply=args.lost_publish_reply,
        skew_ms=args.skew_ms,
        close_race=not args.no_close_race,
        faults_per_kind=args.faults_per_kind,
        fault_s=tuple(args.fault_s),
        chaos=chaos,
        background=background,
    )
    return options, args.json
