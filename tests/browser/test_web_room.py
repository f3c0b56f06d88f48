"""What the room sees (issue 21), on a 1280x800 desktop and a 390x844 phone: players are
told when the host closed a question early and who opens the next one; the host's chart
shows how many have answered, not who chose what, until the reveal; a phone shows the
chosen quiz and the join link whole, and a two-player podium with the winner in the
middle."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.harness import (
    DESKTOP,
    PHONE_390,
    PlayerPage,
    choose_quiz,
    create_session,
    frames_received,
    new_page,
    screenshot,
)

pytestmark = pytest.mark.stack

HAPPY = "Which word means 'very happy'?"
BRIEF = "Pick the synonym of 'brief'."
CLOSED_EARLY = "The host closed this question before the time was up."


def _quiz(time_limit_s: int, questions: int = 2) -> dict[str, Any]:
    both = [
        {
            "id": "happy",
            "kind": "choice",
            "text": HAPPY,
            "options": ["elated", "weary", "meagre", "hostile"],
            "accepted": ["elated"],
            "time_limit_s": time_limit_s,
        },
        {
            "id": "brief",
            "kind": "choice",
            "text": BRIEF,
            "options": ["concise", "lengthy", "vague", "loud"],
            "accepted": ["concise"],
            "time_limit_s": time_limit_s,
        },
    ]
    return {"id": "room", "title": "Room", "questions": both[:questions]}


async def _join(
    browser: Browser, join_link: str, name: str, viewport: dict[str, int], errors: list[str]
) -> tuple[PlayerPage, list[dict[str, Any]]]:
    """A player joined by the link, and the frames their page receives."""
    page = await new_page(browser, viewport, errors)
    frames = frames_received(page)
    player = PlayerPage(page, name)
    await player.join_by_link(join_link)
    return player, frames


def _auto_advance_told(frames: list[dict[str, Any]]) -> bool:
    """The session's auto_advance as the player's SESSION_JOINED says it."""
    joined = [f["payload"] for f in frames if f["type"] == "SESSION_JOINED"]
    assert joined, "the page got no SESSION_JOINED"
    told = joined[-1]["auto_advance"]
    assert isinstance(told, bool)
    return told


def _newest_board(frames: list[dict[str, Any]]) -> dict[str, int]:
    """Name -> score in the newest LEADERBOARD_UPDATED the page received ({} before one)."""
    boards = [f["payload"] for f in frames if f["type"] == "LEADERBOARD_UPDATED"]
    newest = max(boards, key=lambda board: board.get("version", 0), default={"leaderboard": []})
    return {row["username"]: row["score"] for row in newest["leaderboard"]}


async def _until(condition: Callable[[], bool], timeout_s: float = 15) -> None:
    for _ in range(int(timeout_s * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def _centre_x(locator: Locator) -> float:
    box = await locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2


async def _expect_winner_in_the_middle(page: Page, winner: str, second: str) -> None:
    """The podium's first place stands in the middle of it, second place to its left."""
    podium = page.locator("#podium")
    await expect(podium.locator(".name")).to_have_text([winner, second])
    first, runner_up = podium.locator(".place").nth(0), podium.locator(".place").nth(1)
    assert abs(await _centre_x(first) - await _centre_x(podium)) <= 2
    first_box, second_box = await first.bounding_box(), await runner_up.bounding_box()
    assert first_box is not None and second_box is not None
    assert second_box["x"] + second_box["width"] <= first_box["x"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]  # type: ignore[index]


async def test_players_are_told_the_host_closed_the_question_early_and_who_opens_the_next(
    browser: Browser, web_url: str, js_errors: list[str], save_quiz: Callable[[dict[str, Any]], str]
) -> None:
    """Auto-advance off (the default): the host reveals with 60 s left. Neither player is
    told "Time's up", and neither is promised a question that only the host can open."""
    host = await new_page(browser, DESKTOP, js_errors)
    _, join_link = await create_session(host, web_url, save_quiz(_quiz(time_limit_s=60)))
    ada, ada_frames = await _join(browser, join_link, "Ada", DESKTOP, js_errors)
    ben, ben_frames = await _join(browser, join_link, "Ben", PHONE_390, js_errors)
    await expect(host.locator("#participant-count")).to_have_text("2 players")
    await host.get_by_role("button", name="Start quiz").click()

    question = await ada.question_shown([HAPPY, BRIEF])
    await ben.expect_question(question)
    await ada.choose("elated" if question == HAPPY else "concise")
    await ada.expect_verdict(True)
    await expect(host.locator("#host-timer-text")).to_have_text(re.compile(r"^(\d\d) s$"))  # time is left
    await host.get_by_role("button", name="Reveal answer").click()

    for player, frames in ((ada, ada_frames), (ben, ben_frames)):
        page = player.page
        await expect(page.locator("#reveal-answer")).to_have_text(re.compile("^Answer: "))
        await expect(page.locator("#timer-text")).to_have_text("Closed early")
        await expect(page.locator("#reveal-reason")).to_have_text(CLOSED_EARLY)
        await expect(page.locator("#reveal-reason")).to_be_visible()
        assert _auto_advance_told(frames) is False  # so the page says who opens the next one
        waiting = "Waiting for the host to start the next question."
        await expect(page.locator("#reveal-next")).to_have_text(waiting)
        await expect(page.get_by_text("Next question coming up")).to_have_count(0)
    await expect(ben.page.locator("#answer-state")).to_have_text("You didn't answer this one.")
    await expect(ada.page.locator("#answer-state")).to_have_text(re.compile(r"^Correct! "))
    await screenshot(ben.page, "player-4-closed-early-phone")
    await screenshot(ada.page, "player-4-closed-early-desktop")

    # The host opens the next one: a fresh question, its timer running again.
    await host.get_by_role("button", name="Next question").click()
    other = BRIEF if question == HAPPY else HAPPY
    for player in (ada, ben):
        await player.expect_question(other)
        await expect(player.page.locator("#timer-text")).to_have_text(re.compile(r"^\d+ s$"))
        await expect(player.page.locator("#reveal")).to_be_hidden()


async def test_a_question_that_runs_out_says_times_up_and_auto_advance_brings_the_podium(
    browser: Browser, web_url: str, js_errors: list[str], save_quiz: Callable[[dict[str, Any]], str]
) -> None:
    """Auto-advance on, one 5 s question: the deadline closes it ("Time's up", no word of
    the host), the final results follow by themselves, and two players' podium has the
    winner in the middle, on the phone and the desktop."""
    host = await new_page(browser, DESKTOP, js_errors)
    _, join_link = await create_session(
        host, web_url, save_quiz(_quiz(time_limit_s=5, questions=1)), auto_advance=True
    )
    ada, ada_frames = await _join(browser, join_link, "Ada", DESKTOP, js_errors)
    ben, ben_frames = await _join(browser, join_link, "Ben", PHONE_390, js_errors)
    await expect(host.locator("#participant-count")).to_have_text("2 players")
    await host.get_by_role("button", name="Start quiz").click()
    await ada.expect_question(HAPPY)
    await ben.expect_question(HAPPY)
    await ada.choose("elated")
    await ada.expect_verdict(True)

    for player, frames in ((ada, ada_frames), (ben, ben_frames)):
        page = player.page
        await expect(page.locator("#reveal-answer")).to_have_text("Answer: elated")
        await expect(page.locator("#timer-text")).to_have_text("Time's up")
        await expect(page.locator("#reveal-reason")).to_be_hidden()
        assert _auto_advance_told(frames) is True
        await expect(page.locator("#reveal-next")).to_have_text("Final results coming up…")
    await expect(ben.page.locator("#answer-state")).to_have_text("You didn't answer this one.")

    for page in (ada.page, ben.page, host):
        await _expect_winner_in_the_middle(page, "Ada", "Ben")
    await screenshot(ben.page, "player-5-podium-of-two-phone")
    await screenshot(host, "host-5-podium-of-two")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_390], ids=["desktop", "phone"])
async def test_host_chart_shows_how_many_answered_until_the_reveal_and_who_chose_what_after(
    browser: Browser,
    web_url: str,
    js_errors: list[str],
    save_quiz: Callable[[dict[str, Any]], str],
    viewport: dict[str, int],
) -> None:
    """The host's screen is projected to the room: while the question is open it shows
    the options and how many have answered, never how many chose which, nor scores
    that would say who got it right."""
    host = await new_page(browser, viewport, js_errors)
    host_frames = frames_received(host)
    _, join_link = await create_session(host, web_url, save_quiz(_quiz(time_limit_s=60, questions=1)))
    ada, _ = await _join(browser, join_link, "Ada", PHONE_390, js_errors)
    ben, _ = await _join(browser, join_link, "Ben", PHONE_390, js_errors)
    cy, _ = await _join(browser, join_link, "Cy", PHONE_390, js_errors)
    await expect(host.locator("#participant-count")).to_have_text("3 players")
    await host.get_by_role("button", name="Start quiz").click()
    await expect(host.locator("#host-question-text")).to_have_text(HAPPY)

    chart = host.locator("#chart")
    await expect(host.locator("#host-answered")).to_have_text("0 of 3 answered")
    await expect(chart.locator("li")).to_have_count(4)
    for option in ("elated", "weary", "meagre", "hostile"):
        await expect(chart.locator(f"li[data-answer='{option}']")).to_be_visible()
    await ada.choose("elated")
    await ben.choose("elated")
    await ada.expect_verdict(True)
    await ben.expect_verdict(True)
    await expect(host.locator("#host-answered")).to_have_text("2 of 3 answered")
    await expect(host.locator("#answers-in-track")).to_be_visible()
    assert await host.locator("#answers-in-fill").evaluate("node => node.style.width") == "67%"
    # Nothing on the host's screen tells which option was chosen.
    await expect(chart).not_to_contain_text(re.compile(r"\d"))
    await expect(chart.locator(".bar-count, .bar-fill, .verdict")).to_have_count(0)
    await expect(chart).not_to_contain_text("correct")
    # The leaderboard with Ada's and Ben's points has reached the page: it waits.
    await _until(lambda: min(_newest_board(host_frames).get(name, 0) for name in ("Ada", "Ben")) > 0)
    scores = _newest_board(host_frames)
    assert set(await host.locator("#board .score").all_inner_texts()) <= {"0"}
    await screenshot(host, f"host-4-question-open-{viewport['width']}")

    await cy.choose("weary")
    await cy.expect_verdict(False)
    await expect(host.locator("#host-answered")).to_have_text("3 of 3 answered")
    await host.get_by_role("button", name="Reveal answer").click()
    await expect(host.locator("#host-answered")).to_have_text("3 of 3 answered · 2 correct")
    await expect(host.locator("#answers-in-track")).to_be_hidden()
    counts = {"elated": "2 answers", "weary": "1 answer", "meagre": "0 answers", "hostile": "0 answers"}
    for option, count in counts.items():
        await expect(chart.locator(f"li[data-answer='{option}'] .bar-count")).to_have_text(count)
    await expect(chart.locator("li[data-answer='elated']")).to_contain_text("correct")
    await expect(chart.locator("li.correct")).to_have_count(1)
    # At the reveal the board shows the points (the newest board, however many came).
    await expect(host.locator("#board .score")).to_have_text(
        [str(score) for score in sorted(_newest_board(host_frames).values(), reverse=True)]
    )
    assert _newest_board(host_frames)["Ada"] >= scores["Ada"] > 0
    await screenshot(host, f"host-4-question-revealed-{viewport['width']}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_390], ids=["desktop", "phone"])
async def test_host_sees_the_chosen_quiz_and_the_join_link_whole(
    browser: Browser, web_url: str, js_errors: list[str], viewport: dict[str, int]
) -> None:
    host = await new_page(browser, viewport, js_errors)
    await host.goto(f"{web_url}/host.html")
    await choose_quiz(host, "vocab-101")
    label = "Everyday English vocabulary (5 questions)"
    select = host.get_by_label("Choose a quiz")
    await expect(select.locator("option:checked")).to_have_text(label)
    # A label wider than the closed box ends in an ellipsis and is written out in full.
    assert await select.evaluate("node => getComputedStyle(node).textOverflow") == "ellipsis"
    chosen = host.locator("#quiz-chosen")
    if viewport is PHONE_390:
        await expect(chosen).to_have_text(label)
        await expect(chosen).to_be_visible()
        box = await chosen.bounding_box()
        assert box is not None and box["x"] + box["width"] <= viewport["width"]
    else:
        await expect(chosen).to_be_hidden()  # the box is wide enough
    await screenshot(host, f"host-0-setup-{viewport['width']}")

    await host.get_by_role("button", name="Create session").click()
    await expect(host.locator("#join-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"))
    code = await host.locator("#join-code").inner_text()
    link = host.locator("#join-link")
    port = web_url.rsplit(":", 1)[1]
    await expect(link).to_have_text(f"127.0.0.1:{port}/?code={code}")  # what the QR code holds
    await expect(host.get_by_role("link", name=f"127.0.0.1:{port}/?code={code}")).to_be_visible()
    assert await link.get_attribute("href") == f"{web_url}/?code={code}"
    await expect(host.locator("#join-site")).to_have_text(f"127.0.0.1:{port}")
    assert await host.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    await screenshot(host, f"host-1-lobby-{viewport['width']}")


async def test_host_sees_who_left_and_how_many_are_still_here(
    browser: Browser, web_url: str, js_errors: list[str], save_quiz: Callable[[dict[str, Any]], str]
) -> None:
    """A player who closes the tab keeps their seat: the host still counts them among the
    players who joined, marks them "(left)" and says how many are here; back, they count again."""
    host = await new_page(browser, DESKTOP, js_errors)
    _, join_link = await create_session(host, web_url, save_quiz(_quiz(time_limit_s=60, questions=1)))
    await _join(browser, join_link, "Ada", PHONE_390, js_errors)
    ben, _ = await _join(browser, join_link, "Ben", PHONE_390, js_errors)
    await expect(host.locator("#participant-count")).to_have_text("2 players")
    await expect(host.locator("#present-count")).to_be_hidden()

    context = ben.page.context
    await ben.page.close()
    await expect(host.locator("#participants li", has_text="Ben")).to_contain_text("(left)")
    await expect(host.locator("#participant-count")).to_have_text("2 players")
    await expect(host.locator("#present-count")).to_have_text(" · 1 here")
    await expect(host.locator("#present-count")).to_be_visible()

    back = PlayerPage(await context.new_page(), "Ben")
    await back.page.goto(join_link)  # the same browser: the same user, their seat kept
    await expect(host.locator("#participants li", has_text="Ben")).not_to_contain_text("(left)")
    await expect(host.locator("#present-count")).to_be_hidden()
