"""What there is to learn from a session: each player's review of the words they missed,
and the host's view of the class, word by word.

Only revealed questions appear: a question still open, or never reached, gives nothing
away. A player is held to the questions revealed after they joined: one revealed before a
late joiner arrived is neither missed nor skipped by them. A question's "card" is what a
flashcard holds: the word (its first accepted answer), its meaning and an example sentence.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vocabquiz.domain.judging import choice_form, normalize_typed
from vocabquiz.domain.model import Kind, Participant, Question, Quiz, Session
from vocabquiz.domain.results import csv_safe, seated_answers

WRONG, SKIPPED = "wrong", "skipped"
# The most common wrong answers the class view lists per word.
MAX_WRONG_ANSWERS = 5
CLASS_COLUMNS = (
    "word", "question", "players", "answered", "correct", "missed", "accuracy", "common_wrong_answers"
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Card:
    word: str
    meaning: str
    example: str


def card(question: Question) -> Card:
    """The word is the first accepted answer; the meaning its explanation without a
    leading "word:" (as generated quizzes write it), or else the question itself."""
    word = question.accepted[0]
    meaning = question.explanation.strip()
    head, colon, rest = meaning.partition(":")
    if colon and head.strip().casefold() == word.casefold() and rest.strip():
        meaning = rest.strip()
    return Card(word, meaning or question.text, question.example.strip())


def played(session: Session, quiz: Quiz) -> list[tuple[int, Question, int]]:
    """The questions revealed so far: index in the session's order, question, and when
    it was revealed."""
    return [
        (index, question, timing.revealed_at_ms)
        for index, question in enumerate(quiz.questions)
        if (timing := session.timings.get(question.id)) is not None and timing.revealed_at_ms is not None
    ]


def _there(player: Participant, revealed_at_ms: int) -> bool:
    """Whether the player had joined by the question's reveal: it was theirs to answer."""
    return player.joined_at_ms <= revealed_at_ms


def player_review(
    session: Session, quiz: Quiz, player: Participant, answers: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """`answers`: the player's stored answer documents (question_id, answer, is_correct)."""
    theirs = {a["question_id"]: a for a in answers}
    questions = [(index, question) for index, question, at in played(session, quiz) if _there(player, at)]
    missed = []
    for index, question in questions:
        answer = theirs.get(question.id)
        if answer is not None and answer["is_correct"]:
            continue
        missed.append(
            _word(index, question)
            | {
                "outcome": SKIPPED if answer is None else WRONG,
                "your_answer": None if answer is None else answer["answer"],
            }
        )
    return _about(session, quiz) | {
        "username": player.username,
        "score": player.score,
        "played": len(questions),
        "correct": len(questions) - len(missed),
        "missed": missed,
    }


def class_view(
    session: Session, quiz: Quiz, players: list[Participant], answers: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """`answers`: every stored answer document of the session; a kicked player's no
    longer count. A word's players are those seated by its reveal; words hardest first:
    most of them missed it, then play order."""
    by_question = seated_answers(answers, players)
    words = []
    for index, question, revealed_at_ms in played(session, quiz):
        given = by_question.get(question.id, [])
        correct = sum(1 for a in given if a["is_correct"])
        there = sum(1 for p in players if _there(p, revealed_at_ms))
        words.append(
            _word(index, question)
            | {
                "players": there,
                "answered": len(given),
                "correct": correct,
                "missed": there - correct,
                "accuracy": round(correct / there, 4) if there else None,
                "wrong_answers": _common_wrong(question, (a["answer"] for a in given if not a["is_correct"])),
            }
        )
    words.sort(key=lambda w: (-w["missed"], w["index"]))
    return _about(session, quiz) | {"players": len(players), "words": words}


def missed_csv(review: Mapping[str, Any]) -> str:
    """word, meaning, example, for flashcard importers: so no header row (they would
    make it a card)."""
    return _csv((w["word"], w["meaning"], w["example"]) for w in review["missed"])


def class_csv(view: Mapping[str, Any]) -> str:
    rows = [
        (
            w["word"],
            w["text"],
            w["players"],
            w["answered"],
            w["correct"],
            w["missed"],
            "" if w["accuracy"] is None else w["accuracy"],
            "; ".join(f"{a['answer']} ({a['count']})" for a in w["wrong_answers"]),
        )
        for w in view["words"]
    ]
    return _csv([CLASS_COLUMNS, *rows])


def _about(session: Session, quiz: Quiz) -> dict[str, Any]:
    return {"session_id": session.id, "quiz_id": quiz.id, "title": quiz.title, "status": session.status.value}


def _word(index: int, question: Question) -> dict[str, Any]:
    flashcard = card(question)
    return {
        "index": index,
        "question_id": question.id,
        "kind": question.kind.value,
        "text": question.text,
        "accepted_answers": list(question.accepted),
        "word": flashcard.word,
        "meaning": flashcard.meaning,
        "example": flashcard.example,
    }


def _common_wrong(question: Question, answers: Iterable[str]) -> list[dict[str, Any]]:
    """Typed answers grouped as they are judged (case, accents, spaces, a leading
    article), choices by the option (case and surrounding spaces aside, as judged); each
    shown as first given."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for answer in answers:
        key = normalize_typed(answer) if question.kind is Kind.TYPED else choice_form(answer)
        key = key or answer.strip()
        counts[key] += 1
        shown.setdefault(key, " ".join(answer.split()))
    return [{"answer": shown[key], "count": n} for key, n in counts.most_common(MAX_WRONG_ANSWERS)]


def _csv(rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([csv_safe(cell) if isinstance(cell, str) else cell for cell in row])
    return out.getvalue()
