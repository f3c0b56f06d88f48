"""The web client in a real browser against the local stack: a host and three players
play vocab-101 to the podium, one player reloads mid-question, and the host downloads
the results. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from tests.browser.harness import LAPTOP, PHONE, PlayerPage, choose_quiz, create_session, new_page, screenshot

pytestmark = pytest.mark.stack

Q1 = "Which word means 'very happy'?"
Q2 = "Pick the synonym of 'brief'."
Q3 = "Write the word for 'a person who writes books'."
Q4 = "Which word is the opposite of 'ancient'?"
Q5 = "Write the French-borrowed word for a small restaurant serving coffee."
RIGHT = {Q1: "elated", Q2: "concise", Q3: "author", Q4: "modern", Q5: "café"}


async def test_host_and_three_players_play_vocab_101_to_the_podium(
    browser: Browser, web_url: str, js_errors: list[str]
) -> None:
    host = await new_page(browser, LAPTOP, js_errors)
    code, join_link = await create_session(host, web_url)
    await expect(host.locator("#qr svg")).to_be_visible()

    ada = PlayerPage(await new_page(browser, PHONE, js_errors), "Ada")
    ben = PlayerPage(await new_page(browser, PHONE, js_errors), "Ben")
    cy = PlayerPage(await new_page(browser, PHONE, js_errors), "Cy <i>")  # keyboard only
    await ada.join_by_link(join_link)
    await ben.join_by_link(join_link)
    await cy.join_by_keyboard(web_url, code)
    # User text stays text: the name is shown as typed, not as markup.
    await expect(cy.page.locator("#me-name")).to_have_text("Cy <i>")
    everyone = (ada, ben, cy)

    await expect(host.locator("#participants li")).to_have_count(3)
    await expect(host.locator("#participants")).to_contain_text("Cy <i>")
    await expect(host.locator("#participant-count")).to_have_text("3 players")
    await screenshot(host, "host-1-lobby")
    await host.get_by_role("button", name="Start quiz").click()
    next_button = host.locator("#next-button")

    # The session plays the questions, and each one's options, in its own order: each
    # question's moves below go with that question whenever it comes.
    moves = {Q1: _play_q1, Q2: _play_q2, Q3: _play_q3, Q4: _play_q4, Q5: _play_q5}
    ben_reloaded = False
    for place in range(1, len(moves) + 1):
        question = await ada.question_shown(moves)
        options = await ada.options_shown()
        for player in everyone:
            await player.expect_question(question)
            await expect(player.page.locator("#question-progress")).to_have_text(f"Question {place} of 5")
            assert await player.options_shown() == options  # one order for the whole session
        await expect(host.locator("#host-question-text")).to_have_text(question)
        await expect(host.locator("#host-progress")).to_have_text(f"Question {place} of 5")
        if not ben_reloaded and ben.points_seen > 0:
            # Ben reloads before answering, once he has points: he comes back with his
            # score and the open question.
            score_before = await ben.score_shown()
            assert score_before == ben.points_seen > 0
            await ben.page.reload()
            await ben.expect_question(question)
            await expect(ben.page.locator("#me-score")).to_have_text(str(score_before))
            await expect(ben.page.locator("#me-name")).to_have_text("Ben")
            await expect(ben.page.locator("#timer-text")).to_have_text(re.compile(r"^\d+ s$"))
            ben_reloaded = True
        await moves.pop(question)(host, ada, ben, cy)
        await expect(next_button).to_have_text("Show final results" if place == 5 else "Next question")
        await next_button.click()
    assert ben_reloaded

    # The podium: five right beats three right beats one right.
    for player in everyone:
        await expect(player.page.locator("#podium .name")).to_have_text(["Ada", "Ben", "Cy <i>"])
    for place, player in enumerate(everyone, start=1):
        suffix = {1: "1st", 2: "2nd", 3: "3rd"}[place]
        await expect(player.page.locator("#final-summary")).to_have_text(
            f"You finished {suffix} of 3 with {player.points_seen} points."
        )
    await screenshot(ada.page, "player-3-podium")

    await expect(host.get_by_role("heading", name="Final results")).to_be_visible()
    await expect(host.locator("#podium .name")).to_have_text(["Ada", "Ben", "Cy <i>"])
    await expect(host.locator("#question-rows tr")).to_have_count(5)
    await screenshot(host, "host-3-results")
    rows = await _download_csv(host)
    assert [(r["rank"], r["username"], int(r["score"])) for r in rows] == [
        ("1", "Ada", ada.points_seen),
        ("2", "Ben", ben.points_seen),
        ("3", "Cy <i>", cy.points_seen),
    ]


async def test_host_uploads_a_private_quiz_no_other_host_sees_and_the_library_is_marked_public(
    browser: Browser, web_url: str, js_errors: list[str], tmp_path: Path
) -> None:
    teacher = await new_page(browser, LAPTOP, js_errors)
    await teacher.goto(f"{web_url}/host.html")
    await choose_quiz(teacher, "vocab-101")
    library = teacher.locator("#quiz-select optgroup[label='Public library'] option[value='vocab-101']")
    await expect(library).to_be_attached()
    await expect(teacher.locator("#quiz-note")).to_have_text(
        "Public: any host can host this quiz, and so see its answers, as on any quiz platform. "
        "Each session shuffles its questions and their options."
    )

    private_id, public_id = (f"browser-{uuid.uuid4().hex[:8]}" for _ in range(2))
    await teacher.get_by_text("Upload a quiz file").click()
    for quiz_id, visibility in ((private_id, None), (public_id, "Public")):
        path = tmp_path / f"{quiz_id}.json"
        path.write_text(json.dumps(_quiz_file(quiz_id)), encoding="utf-8")
        await teacher.get_by_label("Quiz file (JSON)").set_input_files(path)
        private = teacher.get_by_role("radio", name=re.compile("^Private"))
        await expect(private).to_be_checked()  # the default
        if visibility:
            await teacher.get_by_role("radio", name=re.compile(f"^{visibility}")).check()
        await teacher.get_by_role("button", name="Upload").click()
        await expect(teacher.locator("#quiz-select")).to_have_value(quiz_id)
    mine = teacher.locator("#quiz-select optgroup[label='Your quizzes']")
    await expect(mine.locator(f"option[value='{private_id}']")).to_have_text(
        "Spelling (1 question) · private"
    )
    await expect(mine.locator(f"option[value='{public_id}']")).to_have_text("Spelling (1 question) · public")
    await teacher.get_by_label("Choose a quiz").select_option(private_id)
    await expect(teacher.locator("#quiz-note")).to_have_text(
        "Private: only you can host it or see it listed. "
        "Each session shuffles its questions and their options."
    )

    # Another host sees the public one, under other hosts' quizzes, and not the private one.
    other = await new_page(browser, LAPTOP, js_errors)
    await other.goto(f"{web_url}/host.html")
    await choose_quiz(other, public_id)
    shared = other.locator(
        f"#quiz-select optgroup[label='Shared by other hosts'] option[value='{public_id}']"
    )
    await expect(shared).to_have_text("Spelling (1 question)")
    await choose_quiz(other, None)  # the whole list
    await expect(other.locator(f"#quiz-select option[value='{private_id}']")).to_have_count(0)


def _quiz_file(quiz_id: str) -> dict[str, Any]:
    question = {"id": "q1", "kind": "typed", "text": "Spell 'necessary'.", "accepted": ["necessary"]}
    return {"id": quiz_id, "title": "Spelling", "questions": [question]}


async def _reveal(
    host: Page, players: tuple[PlayerPage, ...], answer_line: str, explanation: str | None
) -> None:
    await host.locator("#next-button").click()  # "Reveal answer"
    for player in players:
        await player.expect_reveal(answer_line, explanation)


async def _play_q1(host: Page, ada: PlayerPage, ben: PlayerPage, cy: PlayerPage) -> None:
    """Choice: two right; Cy answers "weary" with its number key."""
    await ada.choose("elated")
    await ben.choose("elated")
    await expect(cy.page.locator("#choices button").first).to_be_focused()
    await cy.press_key_of("weary")
    await ada.expect_verdict(True)
    await ben.expect_verdict(True)
    await cy.expect_verdict(False)
    await expect(host.locator("#host-answered")).to_have_text("3 of 3 answered")
    # The options, but how many chose each only once revealed (the room sees this screen).
    await expect(host.locator("#chart li[data-answer='elated']")).to_be_visible()
    await expect(host.locator("#chart .bar-count")).to_have_count(0)
    await screenshot(ada.page, "player-1-question-answered")
    await screenshot(host, "host-2-question-live")
    await _reveal(host, (ada, ben, cy), "Answer: elated", "Elated: filled with great joy.")
    await expect(host.locator("#host-answered")).to_have_text("3 of 3 answered · 2 correct")
    await expect(host.locator("#chart li[data-answer='elated'] .bar-count")).to_have_text(re.compile("^2"))
    await screenshot(cy.page, "player-2-reveal-wrong")


async def _play_q2(host: Page, ada: PlayerPage, ben: PlayerPage, cy: PlayerPage) -> None:
    """Choice: two right; Cy presses the key of "lengthy"."""
    await ada.choose("concise")
    await ben.choose("concise")
    await cy.press_key_of("lengthy")
    await ada.expect_verdict(True)
    await ben.expect_verdict(True)
    await cy.expect_verdict(False)
    await _reveal(host, (ada, ben, cy), "Answer: concise", None)


async def _play_q3(host: Page, ada: PlayerPage, ben: PlayerPage, cy: PlayerPage) -> None:
    """Typed: Ada types "auther" (one typo: still right); Ben answers, reloads, and is
    told his answer is in."""
    await ada.type_answer("auther")
    await ben.type_answer("Writer")
    await cy.type_answer("editor")
    await ada.expect_verdict(True)
    await ben.expect_verdict(True)
    await cy.expect_verdict(False)
    await ben.page.reload()
    await ben.expect_question(Q3)
    await expect(ben.page.locator("#answer-state")).to_have_text(
        "Your answer “Writer” is in. The right answer is shown when the question closes."
    )
    await expect(ben.page.locator("#me-score")).to_have_text(str(ben.points_seen))
    await screenshot(ben.page, "player-2-after-reload")
    await expect(host.locator("#host-answered")).to_have_text("3 of 3 answered")
    await expect(host.locator("#chart li")).to_have_count(0)  # what was typed shows with the reveal
    await _reveal(
        host,
        (ada, ben, cy),
        "Accepted answers: author, writer, novelist",
        "An author (or writer) creates books.",
    )
    # The host's chart ticks what was judged right, the typo included; not what was wrong.
    await expect(host.locator("#chart li[data-answer='auther']")).to_contain_text("correct")
    await expect(host.locator("#chart li[data-answer='writer']")).to_contain_text("correct")
    await expect(host.locator("#chart li[data-answer='editor']")).not_to_contain_text("correct")


async def _play_q4(host: Page, ada: PlayerPage, ben: PlayerPage, cy: PlayerPage) -> None:
    """Choice: Cy moves with Tab and answers with Enter."""
    await ada.choose("modern")
    await ben.choose("antique")
    await cy.tab_to("modern")
    await cy.page.keyboard.press("Enter")
    await ada.expect_verdict(True)
    await ben.expect_verdict(False)
    await cy.expect_verdict(True)
    await _reveal(host, (ada, ben, cy), "Answer: modern", None)


async def _play_q5(host: Page, ada: PlayerPage, ben: PlayerPage, cy: PlayerPage) -> None:
    """Typed: accents are forgiven ("cafe" for "café")."""
    await ada.type_answer("cafe")
    await ben.type_answer("bar")
    await cy.type_answer("pub")
    await ada.expect_verdict(True)
    await ben.expect_verdict(False)
    await cy.expect_verdict(False)
    await _reveal(host, (ada, ben, cy), "Answer: café", None)


async def test_player_with_an_unknown_code_is_told_so_and_can_retry(
    browser: Browser, web_url: str, js_errors: list[str]
) -> None:
    page = await new_page(browser, PHONE, js_errors)
    await page.goto(f"{web_url}/?code=ZZZZ22")
    await page.get_by_label("Your name").fill("Dee")
    await page.get_by_role("button", name="Join").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "No quiz has that code. Check the code on the host's screen."
    )
    await expect(page.get_by_role("button", name="Join")).to_be_enabled()
    await expect(page.get_by_label("Session code")).to_be_focused()


async def test_player_cut_off_reconnects_into_the_room_and_the_host_can_remove_them(
    browser: Browser, web_url: str, js_errors: list[str]
) -> None:
    host = await new_page(browser, LAPTOP, js_errors)
    _, join_link = await create_session(host, web_url)
    page = await new_page(browser, PHONE, js_errors)
    network_up = True
    sockets: list[WebSocketRoute] = []

    async def route(socket: WebSocketRoute) -> None:
        if network_up:
            socket.connect_to_server()
            sockets.append(socket)
        else:
            await socket.close(code=1011, reason="network down")

    await page.route_web_socket(re.compile(r"/ws$"), route)
    dee = PlayerPage(page, "Dee")
    await dee.join_by_link(join_link)
    await expect(host.locator("#participant-count")).to_have_text("1 player")

    # The gateway restarts and the network stays down a while: the player is told.
    network_up = False
    await sockets[-1].close(code=1012, reason="Service restarting")
    await expect(page.get_by_role("status")).to_have_text("Reconnecting…")
    network_up = True
    await expect(page.locator("#connection")).to_be_empty()  # the status line goes away
    assert len(sockets) == 2
    # REJOIN put the new socket back in the room: the question the host opens arrives.
    await host.get_by_role("button", name="Start quiz").click()
    await dee.expect_question(await _question_opened(host))
    await expect(page.locator("#me-name")).to_have_text("Dee")

    await host.get_by_text("Players (1)").click()
    await host.get_by_role("button", name="Remove Dee").click()
    await host.get_by_role("button", name="Confirm removing Dee").click()
    await expect(page.get_by_role("alert")).to_have_text("The host removed you from this quiz.")
    await expect(page.get_by_role("heading", name="Join a quiz")).to_be_visible()
    await expect(host.locator("#run-participant-count")).to_have_text("0")


async def test_player_whose_answer_ack_is_lost_sends_it_again_and_is_scored_once(
    browser: Browser, web_url: str, js_errors: list[str]
) -> None:
    """The gateway stored the answer but its ACK never reached the page (a publish's reply
    lost, a frame dropped): the page sends the same frame again after 3 s; the server
    scores it once and the player sees one verdict."""
    host = await new_page(browser, LAPTOP, js_errors)
    _, join_link = await create_session(host, web_url)
    page = await new_page(browser, PHONE, js_errors)
    answers_sent: list[dict[str, Any]] = []
    dropped: list[str] = []

    async def route(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def up(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "SUBMIT_ANSWER":
                answers_sent.append(frame)
            server.send(message)

        def down(message: str | bytes) -> None:
            frame = json.loads(message)
            acked = frame["payload"].get("message_id") if frame["type"] == "ACK" else None
            if acked is not None and not dropped and answers_sent and acked == answers_sent[0]["message_id"]:
                dropped.append(acked)
                return
            socket.send(message)

        socket.on_message(up)
        server.on_message(down)

    await page.route_web_socket(re.compile(r"/ws$"), route)
    eve = PlayerPage(page, "Eve")
    await eve.join_by_link(join_link)
    await host.get_by_role("button", name="Start quiz").click()
    question = await _question_opened(host)
    await eve.expect_question(question)
    await _answer_right(eve, question)
    points = await eve.expect_verdict(True)
    for _ in range(80):  # the ACK is due in 3 s
        if len(answers_sent) == 2:
            break
        await page.wait_for_timeout(100)
    assert dropped and {f["message_id"] for f in answers_sent} == {dropped[0]}
    await expect(host.locator("#host-answered")).to_have_text("1 of 1 answered")
    await page.wait_for_timeout(1000)
    assert len(answers_sent) == 2  # acknowledged the second time: not sent again
    assert await eve.score_shown() == points


async def _question_opened(host: Page) -> str:
    """The question the host's page shows open: whichever the session's order put first."""
    shown = host.locator("#host-question-text")
    await expect(shown).to_have_text(re.compile("^(" + "|".join(re.escape(q) for q in RIGHT) + ")$"))
    return await shown.inner_text()


async def _answer_right(player: PlayerPage, question: str) -> None:
    if question in (Q3, Q5):
        await player.type_answer(RIGHT[question])
    else:
        await player.choose(RIGHT[question])


async def _download_csv(host: Page) -> list[dict[str, str]]:
    async with host.expect_download() as download_info:
        await host.get_by_role("button", name="Download results (CSV)").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".csv")
    path = await download.path()
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
