"""What there is to learn after a game, in a real browser against the local stack: each
player's review of the words they missed (on the results screen, and as an Anki deck and
a CSV to take away) and the host's class view, class CSV and whole-quiz deck (issue 22).
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Response, expect

from tests.anki import anki_notes
from tests.browser.harness import (
    LAPTOP,
    PHONE,
    PHONE_390,
    ROOT,
    PlayerPage,
    create_session,
    download_file,
    new_page,
    screenshot,
)

pytestmark = pytest.mark.stack

VOCAB_101 = json.loads((ROOT / "quizzes" / "vocab-101.json").read_text(encoding="utf-8"))
QUESTIONS = {q["id"]: q for q in VOCAB_101["questions"]}
WORD = {qid: q["accepted"][0] for qid, q in QUESTIONS.items()}  # a card's word: the first accepted answer

# Who does what on each question, whatever order the session plays them in: ("choose",
# option) or ("type", text), judged right or wrong; None: no answer (skipped). Ann's typed
# wrong answer is markup, which must stay text on every page.
ANN_TYPED = "poet <b>"
MOVES: dict[str, dict[str, tuple[str, str, bool] | None]] = {
    "q1": {"Ann": ("choose", "weary", False), "Bo": ("choose", "elated", True)},
    "q2": {"Ann": ("choose", "concise", True), "Bo": ("choose", "lengthy", False)},
    "q3": {"Ann": ("type", ANN_TYPED, False), "Bo": None},
    "q4": {"Ann": None, "Bo": ("choose", "antique", False)},
    "q5": {"Ann": ("type", "cafe", True), "Bo": ("type", "café", True)},
}
NAMES = ("Ann", "Bo")


def _missed(name: str, order: list[str]) -> list[str]:
    """The questions `name` got wrong or skipped, in play order."""
    return [qid for qid in order if (move := MOVES[qid][name]) is None or not move[2]]


def _review_fetched(page: Page) -> AbstractAsyncContextManager[Any]:
    """The page's own GET of its review JSON (not a preflight, not a file)."""

    def is_review(response: Response) -> bool:
        url = response.url
        return response.request.method == "GET" and "/review" in url and "format=" not in url

    return page.expect_response(is_review)


async def test_players_review_their_own_missed_words_and_take_them_away_and_the_host_sees_the_class(
    browser: Browser, web_url: str, js_errors: list[str]
) -> None:
    host = await new_page(browser, LAPTOP, js_errors)
    code, join_link = await create_session(host, web_url)
    players = {name: PlayerPage(await new_page(browser, PHONE, js_errors), name) for name in NAMES}
    for player in players.values():
        await player.join_by_link(join_link)
    await expect(host.locator("#participant-count")).to_have_text("2 players")
    await host.get_by_role("button", name="Start quiz").click()

    order: list[str] = []  # question ids in the session's order
    by_text = {q["text"]: qid for qid, q in QUESTIONS.items()}
    next_button = host.locator("#next-button")
    for place in range(1, len(QUESTIONS) + 1):
        # Only a question not played yet: the last one stays on screen until the next opens.
        text = await players["Ann"].question_shown(t for t, qid in by_text.items() if qid not in order)
        qid = by_text[text]
        order.append(qid)
        await players["Bo"].expect_question(text)
        await expect(host.locator("#host-question-text")).to_have_text(text)
        for name, player in players.items():
            move = MOVES[qid][name]
            if move is None:
                continue
            how, answer, right = move
            await (player.choose(answer) if how == "choose" else player.type_answer(answer))
            await player.expect_verdict(right)
        answered = sum(MOVES[qid][name] is not None for name in NAMES)
        await expect(host.locator("#host-answered")).to_have_text(f"{answered} of 2 answered")
        await next_button.click()  # "Reveal answer"
        for name, player in players.items():
            await expect(player.page.locator("#reveal-answer")).to_be_visible()
            if MOVES[qid][name] is None:
                await expect(player.page.locator("#answer-state")).to_have_text("You didn't answer this one.")
        await expect(next_button).to_have_text(
            "Show final results" if place == len(QUESTIONS) else "Next question"
        )
        if place < len(QUESTIONS):
            await next_button.click()

    # The end: each player's page fetches its own review under the podium.
    async with (
        _review_fetched(players["Ann"].page) as ann_fetch,
        _review_fetched(players["Bo"].page) as bo_fetch,
    ):
        await next_button.click()
    reviews = {"Ann": await (await ann_fetch.value).json(), "Bo": await (await bo_fetch.value).json()}

    for name, player in players.items():
        await _expect_review(player.page, name, reviews[name], order)
    await screenshot(players["Ann"].page, "player-6-review-phone")
    # The other player's answers are nowhere on the page: Bo chose "antique" for the word
    # Ann skipped, and skipped the one Ann answered with markup.
    await expect(players["Ann"].page.locator("#end-view")).not_to_contain_text("antique")
    await expect(players["Ann"].page.locator("#end-view")).not_to_contain_text("lengthy")
    await expect(players["Bo"].page.locator("#end-view")).not_to_contain_text("poet")
    await expect(players["Bo"].page.locator("#end-view")).not_to_contain_text("weary")

    # Ann takes her missed words away: an Anki deck of exactly those, and a CSV.
    ann = players["Ann"].page
    name, deck = await download_file(ann, "Anki deck (.apkg)")
    assert name == f"missed-{code}.apkg"
    notes = anki_notes(deck.read_bytes())
    missed_words = [WORD[qid] for qid in _missed("Ann", order)]
    assert sorted(fields[0] for fields in notes) == sorted(missed_words)
    right_words = {WORD[qid] for qid in QUESTIONS} - set(missed_words)
    assert right_words == {"concise", "café"}
    assert not any(word in fields[0] for fields in notes for word in right_words)
    missed_by_word = {item["word"]: item for item in reviews["Ann"]["missed"]}
    for fields in notes:  # Word, Meaning, Example
        assert fields[1] == missed_by_word[fields[0]]["meaning"]
    name, table = await download_file(ann, "CSV")
    assert name == f"missed-{code}.csv"
    rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8"))))
    # word, meaning, example; no header row (an importer would make it a card)
    assert [row[0] for row in rows] == missed_words
    assert all(len(row) == 3 for row in rows)
    # The podium is still there.
    await expect(ann.get_by_role("heading", name="Final results")).to_be_visible()
    await expect(ann.locator("#podium .name")).to_have_count(2)  # two right each: speed decides who won

    # The host's class view: hardest words first (most players missed, then play order).
    await expect(host.get_by_role("heading", name="Class view")).to_be_visible()
    expected = _class_rows(order)
    rows_shown = host.locator("#class-rows tr")
    await expect(rows_shown).to_have_count(len(QUESTIONS))
    assert [await row.get_attribute("data-question-id") for row in await rows_shown.all()] == [
        row["qid"] for row in expected
    ]
    for row, want in zip(await rows_shown.all(), expected, strict=True):
        await expect(row.locator(".class-word")).to_have_text(WORD[want["qid"]])
        percent = round(100 * want["correct"] / 2)
        await expect(row.locator(".class-correct")).to_have_text(f"{want['correct']} of 2 ({percent}%)")
        await expect(row.locator(".class-answered")).to_have_text(f"{want['answered']} answered")
        if want["wrong"]:
            await expect(row.locator(".class-wrong li")).to_have_text([f"{w} (1)" for w in want["wrong"]])
        else:
            await expect(row.locator(".class-wrong")).to_have_text("none")
    await expect(host.locator("#class-rows")).to_contain_text(f"{ANN_TYPED} (1)")  # markup shown as text
    await screenshot(host, "host-6-class-view")

    name, table = await download_file(host, "Class CSV")
    assert name == f"class-{code}.csv"
    class_rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert [r["word"] for r in class_rows] == [WORD[row["qid"]] for row in expected]
    for got, want in zip(class_rows, expected, strict=True):
        assert got["question"] == QUESTIONS[want["qid"]]["text"]
        counts = (got["players"], got["answered"], got["correct"], got["missed"])
        assert counts == ("2", str(want["answered"]), str(want["correct"]), str(2 - want["correct"]))
        assert got["common_wrong_answers"] == "; ".join(f"{w} (1)" for w in want["wrong"])
    name, deck = await download_file(host, "Whole quiz deck (.apkg)")
    assert name == "quiz-vocab-101.apkg"
    assert sorted(fields[0] for fields in anki_notes(deck.read_bytes())) == sorted(WORD.values())

    # The existing results CSV still comes down beside them.
    name, table = await download_file(host, "Download results (CSV)")
    assert name == f"results-{code}.csv"
    results = csv.DictReader(io.StringIO(table.read_text(encoding="utf-8")))
    assert sorted(r["username"] for r in results) == ["Ann", "Bo"]

    # On a phone the host's table scrolls in its own box; the page does not scroll sideways.
    await host.set_viewport_size(PHONE_390)  # type: ignore[arg-type]
    await expect(host.locator("#class-scroll")).to_be_visible()
    assert await host.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    await screenshot(host, "host-6-class-view-phone")


async def _expect_review(page: Page, name: str, review: dict[str, Any], order: list[str]) -> None:
    """The review JSON holds exactly the player's missed questions with their own answers,
    and the page shows each one: word, question, their answer or "Skipped", the accepted
    answers, the meaning and (when the quiz has one) the example."""
    missed = _missed(name, order)
    assert review["username"] == name
    assert (review["played"], review["correct"]) == (len(order), len(order) - len(missed))
    assert [item["question_id"] for item in review["missed"]] == missed
    for item in review["missed"]:
        move = MOVES[item["question_id"]][name]
        assert item["outcome"] == ("skipped" if move is None else "wrong")
        assert item["your_answer"] == (None if move is None else move[1])
        assert item["index"] == order.index(item["question_id"])

    await expect(page.get_by_role("heading", name="Review: the words you missed")).to_be_visible()
    await expect(page.locator("#review-status")).to_have_text(
        f"You got {len(order) - len(missed)} of {len(order)} right. {len(missed)} words to review:"
    )
    items = page.locator("#review-list > li")
    await expect(items).to_have_count(len(missed))
    for shown, item in zip(await items.all(), review["missed"], strict=True):
        qid = item["question_id"]
        question = QUESTIONS[qid]
        assert await shown.get_attribute("data-question-id") == qid
        await expect(shown.get_by_role("heading", level=3)).to_have_text(WORD[qid])
        await expect(shown.locator(".review-question")).to_have_text(
            f"Question {order.index(qid) + 1}: {question['text']}"
        )
        move = MOVES[qid][name]
        yours = "Skipped" if move is None else f"Your answer: {move[1]}"
        await expect(shown.locator(".review-yours")).to_have_text(re.compile(rf"^\W?{re.escape(yours)}$"))
        accepted = question["accepted"]
        label = "Accepted answers" if len(accepted) > 1 else "Answer"
        await expect(shown.locator(".review-accepted")).to_contain_text(f"{label}: {', '.join(accepted)}")
        if item["meaning"] != question["text"]:
            await expect(shown.locator(".review-meaning")).to_have_text(f"Meaning: {item['meaning']}")
        if item["example"]:
            await expect(shown.locator(".review-example")).to_have_text(f"Example: {item['example']}")
        else:
            await expect(shown.locator(".review-example")).to_have_count(0)
    await expect(page.get_by_role("button", name="Anki deck (.apkg)")).to_be_visible()
    await expect(page.get_by_role("button", name="CSV")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _class_rows(order: list[str]) -> list[dict[str, Any]]:
    """Per question, what the two players did; hardest (most missed) first, then play order."""
    rows = []
    for index, qid in enumerate(order):
        moves = [MOVES[qid][name] for name in NAMES]
        given = [move for move in moves if move is not None]
        rows.append(
            {
                "qid": qid,
                "index": index,
                "answered": len(given),
                "correct": sum(move[2] for move in given),
                "wrong": [move[1] for move in given if not move[2]],
            }
        )
    return sorted(rows, key=lambda row: (-(2 - row["correct"]), row["index"]))


async def test_player_sees_the_example_of_a_missed_word_and_one_with_all_right_is_told_so(
    browser: Browser,
    web_url: str,
    js_errors: list[str],
    save_quiz: Callable[[dict[str, Any]], str],
) -> None:
    """A quiz whose words have example sentences (and a generated "word: meaning"
    explanation): the player who misses one sees its example and meaning; the one who gets
    everything right is told so and offered nothing to download."""
    quiz_id = save_quiz(
        {
            "id": "review-examples",
            "title": "Examples",
            "questions": [
                {
                    "id": "q1",
                    "kind": "typed",
                    "text": "Write the word for 'to make something less severe'.",
                    "accepted": ["mitigate"],
                    "explanation": "mitigate: make less severe or harsh",
                    "example": "New rules mitigate the risk of flooding.",
                    "time_limit_s": 60,
                }
            ],
        }
    )
    host = await new_page(browser, LAPTOP, js_errors)
    _, join_link = await create_session(host, web_url, quiz_id)
    cat = PlayerPage(await new_page(browser, PHONE, js_errors), "Cat")
    dan = PlayerPage(await new_page(browser, PHONE, js_errors), "Dan")
    for player in (cat, dan):
        await player.join_by_link(join_link)
    await host.get_by_role("button", name="Start quiz").click()
    await cat.type_answer("<img src=x onerror=alert(1)>")
    await dan.type_answer("mitigate")
    await cat.expect_verdict(False)
    await dan.expect_verdict(True)
    await host.locator("#next-button").click()  # reveal
    await expect(host.locator("#next-button")).to_have_text("Show final results")
    await host.locator("#next-button").click()

    item = cat.page.locator("#review-list > li")
    await expect(item).to_have_count(1)
    example = "Example: New rules mitigate the risk of flooding."
    await expect(item.locator(".review-example")).to_have_text(example)
    await expect(item.locator(".review-meaning")).to_have_text("Meaning: make less severe or harsh")
    markup = re.compile(r"Your answer: <img src=x onerror=alert\(1\)>$")
    await expect(item.locator(".review-yours")).to_have_text(markup)
    assert await cat.page.locator("#review-list img").count() == 0
    await screenshot(cat.page, "player-6-review-example-phone")

    await expect(dan.page.locator("#review-status")).to_have_text("You got the one question right.")
    await expect(dan.page.locator("#review-list > li")).to_have_count(0)
    await expect(dan.page.get_by_role("button", name="Anki deck (.apkg)")).to_be_hidden()
    await expect(dan.page.locator("#podium .name")).to_have_text(["Dan", "Cat"])
