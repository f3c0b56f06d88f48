"""What the browser tests share: fresh pages, screenshots, and a player page driven the
way a person would (by visible labels, roles and keys)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, WebSocket, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1100, "height": 860}
# The sizes issue 21 was found at: a 1280x800 desktop and a 390x844 phone.
DESKTOP = {"width": 1280, "height": 800}
PHONE_390 = {"width": 390, "height": 844}
STEP_TIMEOUT_MS = 15_000

expect.set_options(timeout=STEP_TIMEOUT_MS)


async def new_page(browser: Browser, viewport: dict[str, int], errors: list[str]) -> Page:
    """A fresh context is a fresh user: its own localStorage, so its own anonymous uid.
    Uncaught script errors of the page are appended to `errors`."""
    context = await browser.new_context(viewport=viewport)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    return page


def frames_received(page: Page) -> list[dict[str, Any]]:
    """Every frame the page's sockets receive from now on, decoded, in order (watched,
    not changed). Call it before the page opens its socket."""
    frames: list[dict[str, Any]] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framereceived", lambda data: frames.append(json.loads(data)))

    page.on("websocket", watch)
    return frames


async def choose_quiz(host: Page, quiz_id: str | None) -> None:
    """Pick a quiz on the host page, showing more of the list (a page at a time, by id)
    until it is there; None: show the whole list."""
    options = host.locator("#quiz-select optgroup option")
    more = host.get_by_role("button", name="Show more quizzes")
    await expect(options.first).to_be_attached()
    for _ in range(20):
        if quiz_id is not None and await host.locator(f"#quiz-select option[value='{quiz_id}']").count():
            await host.get_by_label("Choose a quiz").select_option(quiz_id)
            return
        if quiz_id is None and not await more.is_visible():
            return
        shown = await options.count()
        await more.click()
        await expect(options).not_to_have_count(shown)
    raise AssertionError(f"{quiz_id} not in 20 pages of the quiz list")


async def create_session(
    host: Page, web_url: str, quiz_id: str = "vocab-101", *, auto_advance: bool = False
) -> tuple[str, str]:
    """Create a session of `quiz_id` on the host page; (code, join link) as shown."""
    await host.goto(f"{web_url}/host.html")
    await choose_quiz(host, quiz_id)
    if auto_advance:
        await host.get_by_label("Open the next question by itself").check()
    await host.get_by_role("button", name="Create session").click()
    code_shown = host.locator("#join-code")
    await expect(code_shown).to_have_text(re.compile(r"^[A-Z0-9]{6}$"))
    code = await code_shown.inner_text()
    join_link = await host.locator("#join-link").get_attribute("href")
    assert join_link == f"{web_url}/?code={code}"
    return code, join_link


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Let CSS transitions (timer and chart bars) settle so the picture shows the state.
    await page.wait_for_timeout(400)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


class PlayerPage:
    """One player's phone-sized page, with the points they saw awarded summed up."""

    def __init__(self, page: Page, name: str) -> None:
        self.page = page
        self.name = name
        self.points_seen = 0

    async def join_by_link(self, join_link: str) -> None:
        await self.page.goto(join_link)
        # The link fills in the code; the name field has focus.
        await expect(self.page.get_by_label("Session code")).to_have_value(join_link.rsplit("=", 1)[1])
        await self.page.get_by_label("Your name").fill(self.name)
        await self.page.get_by_role("button", name="Join").click()
        await self.expect_lobby()

    async def join_by_keyboard(self, base_url: str, code: str) -> None:
        await self.page.goto(base_url + "/")
        await expect(self.page.get_by_label("Session code")).to_be_focused()
        await self.page.keyboard.type(code.lower())  # codes are not case-sensitive to type
        await self.page.keyboard.press("Tab")
        await self.page.keyboard.type(self.name)
        await self.page.keyboard.press("Enter")
        await self.expect_lobby()

    async def expect_lobby(self) -> None:
        await expect(self.page.get_by_text("You're in!")).to_be_visible()
        await expect(self.page.locator("#me-name")).to_have_text(self.name)

    async def expect_question(self, text: str) -> None:
        await expect(self.page.locator("#question-text")).to_have_text(text)

    async def question_shown(self, candidates: Iterable[str]) -> str:
        """Wait for one of `candidates` to be the question on screen; returns it. Each
        session plays its quiz in its own order, so a test reads which one came."""
        pattern = re.compile("^(" + "|".join(re.escape(text) for text in candidates) + ")$")
        question = self.page.locator("#question-text")
        await expect(question).to_have_text(pattern)
        return await question.inner_text()

    async def options_shown(self) -> list[str]:
        """The open question's options, in the order shown (the session's own)."""
        return await self.page.locator("#choices .option-text").all_inner_texts()

    async def press_key_of(self, option: str) -> None:
        """Answer with the option's number key (1 for the first shown, ...)."""
        await self.page.keyboard.press(str((await self.options_shown()).index(option) + 1))

    async def tab_to(self, option: str) -> None:
        """From the first option (focused when the question opens), Tab to `option`,
        checking each step; an option shown first is reached by Tab and Shift+Tab."""
        buttons = self.page.locator("#choices button")
        await expect(buttons.first).to_be_focused()
        target = (await self.options_shown()).index(option)
        for place in range(1, max(target, 1) + 1):
            await self.page.keyboard.press("Tab")
            await expect(buttons.nth(place)).to_be_focused()
        if target == 0:
            await self.page.keyboard.press("Shift+Tab")
        await expect(buttons.nth(target)).to_be_focused()

    async def choose(self, option: str) -> None:
        # Buttons are read as "A: elated" (letter, then the option).
        name = re.compile(rf"^[A-D]: {re.escape(option)}$")
        await self.page.locator("#choices").get_by_role("button", name=name).click()

    async def type_answer(self, text: str) -> None:
        field = self.page.get_by_label("Your answer")
        await expect(field).to_be_focused()  # focus moves to the field when the question opens
        await self.page.keyboard.type(text)
        await self.page.keyboard.press("Enter")

    async def expect_verdict(self, correct: bool) -> int:
        """Wait for the instant feedback; returns (and adds up) the points shown."""
        feedback = self.page.locator("#answer-state")
        if not correct:
            await expect(feedback).to_have_text("Not quite: 0 points this time.")
            return 0
        await expect(feedback).to_have_text(re.compile(r"^Correct! \+\d+ points$"))
        points = int(re.findall(r"\d+", await feedback.inner_text())[0])
        self.points_seen += points
        await expect(self.page.locator("#me-score")).to_have_text(str(self.points_seen))
        return points

    async def expect_reveal(self, answer_line: str, explanation: str | None) -> None:
        await expect(self.page.locator("#reveal-answer")).to_have_text(answer_line)
        if explanation:
            await expect(self.page.locator("#reveal-explanation")).to_have_text(explanation)

    async def score_shown(self) -> int:
        return int(await self.page.locator("#me-score").inner_text())


async def download_file(page: Page, button_name: str) -> tuple[str, Path]:
    """Click the button that saves a file (fetched with the page's token, then handed to
    the browser); the name the page gave it and where Playwright saved it."""
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name=button_name, exact=True).click()
    download = await download_info.value
    assert await download.failure() is None
    return download.suggested_filename, await download.path()
