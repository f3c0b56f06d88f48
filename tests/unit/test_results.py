"""Final results: per player and per question, and a CSV a spreadsheet opens safely."""

from __future__ import annotations

from vocabquiz.domain.model import Kind, Participant, Question, Quiz
from vocabquiz.domain.results import players_csv, session_results

QUIZ = Quiz(
    "quiz", "Quiz", (Question("q1", Kind.TYPED, "?", (), ("a",)), Question("q2", Kind.TYPED, "?", (), ("b",)))
)


def test_results_rank_players_and_summarise_each_question() -> None:
    players = [Participant("u1", "Ann", 15, 1, 2, 100), Participant("u2", "Ben", 0, 0, 1)]
    answers = [
        {"uid": "u1", "question_id": "q1", "is_correct": True, "time_taken_ms": 1000},
        {"uid": "u1", "question_id": "q2", "is_correct": False, "time_taken_ms": 3000},
        {"uid": "u2", "question_id": "q1", "is_correct": False, "time_taken_ms": 2000},
        {"uid": "gone", "question_id": "q1", "is_correct": True, "time_taken_ms": 10},
    ]
    report = session_results(QUIZ, players, answers)
    assert [(p["rank"], p["username"], p["score"]) for p in report["players"]] == [
        (1, "Ann", 15),
        (2, "Ben", 0),
    ]
    q1, q2 = report["questions"]
    assert (q1["answered"], q1["correct"], q1["accuracy"], q1["average_time_ms"]) == (2, 1, 0.5, 1500)
    assert (q2["answered"], q2["accuracy"]) == (1, 0.0)


def test_csv_defuses_names_a_spreadsheet_would_run_as_formulas() -> None:
    report = session_results(QUIZ, [Participant("u1", "=HYPERLINK(1)", 0)], [])
    lines = players_csv(report).splitlines()
    assert lines[0] == "rank,user_id,username,score,correct_count,answered_count"
    assert lines[1] == "1,u1,'=HYPERLINK(1),0,0,0"
