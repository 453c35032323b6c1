"""The widget and the desk in headless Chromium (fake Rasa): typing both ways, "seen",
and a private note that never reaches the customer's widget."""

from __future__ import annotations

import pytest
from bot_support import online_agent

from handoff.settings import PROJECT_ROOT
from tests.helpers import CHROMIUM_ARGS, chromium_path

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
SHOTS = PROJECT_ROOT / "reports" / "screenshots"
ARGS = CHROMIUM_ARGS
STEP = 20_000
NOTE = "Private: this customer asked for a refund twice already"


async def test_typing_seen_and_a_note_between_widget_and_desk(live):
    from playwright.async_api import async_playwright, expect

    executable = chromium_path()
    SHOTS.mkdir(parents=True, exist_ok=True)
    alice = await online_agent(live.service, "alice", "Alice Moreno")
    problems: list = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            shop = await (await browser.new_context()).new_page()
            shop.on("pageerror", lambda e: problems.append(str(e)))
            await shop.goto(live.url + "/")
            await shop.locator(".lk-launcher").click()
            log = shop.get_by_role("log")
            await expect(log.locator(".lk-msg").first).to_be_visible(timeout=STEP)
            await shop.fill("#lk-input", "this is useless")  # the fake Rasa hands off
            await shop.press("#lk-input", "Enter")
            await expect(shop.locator(".lk-status")).to_contain_text("Waiting", timeout=STEP)

            desk = await (await browser.new_context()).new_page()
            desk.on("pageerror", lambda e: problems.append(str(e)))
            await desk.goto(live.url + "/desk")
            await desk.fill("#login-name", "alice")
            await desk.fill("#login-password", "correct horse battery")
            await desk.click("button[type=submit]")
            await expect(desk.locator("#connection")).to_have_text("live", timeout=STEP)
            await desk.locator("#queue-list .item").first.click()
            await desk.click("#claim-btn")
            await expect(desk.locator("#reply-text")).to_be_visible(timeout=STEP)
            await expect(shop.locator(".lk-status")).to_contain_text("Alice Moreno", timeout=STEP)

            # The agent has the chat open: the customer's message shows "Seen".
            await expect(log.locator(".lk-customer .lk-seen")).to_have_text("Seen", timeout=STEP)
            # The agent types: the widget names her; the customer types: the desk says so.
            await desk.type("#reply-text", "Let me check")
            await expect(shop.locator(".lk-typing")).to_contain_text(
                "Alice Moreno is typing", timeout=STEP
            )
            await shop.type("#lk-input", "It was order 5521")
            await expect(desk.locator("#customer-typing")).to_be_visible(timeout=STEP)
            await shop.screenshot(path=str(SHOTS / "widget_typing_seen.png"))
            await shop.press("#lk-input", "Enter")
            await expect(desk.locator("#transcript")).to_contain_text("order 5521", timeout=STEP)
            await expect(desk.locator("#customer-typing")).to_be_hidden()

            await desk.fill("#note-text", NOTE)
            await desk.click("#note-btn")
            await expect(desk.locator("#transcript .msg.note")).to_have_count(1, timeout=STEP)
            await desk.press("#reply-text", "Enter")  # sends "Let me check"
            await expect(log.locator(".lk-agent .lk-bubble")).to_contain_text(
                "Let me check", timeout=STEP
            )
            await desk.screenshot(path=str(SHOTS / "desk_typing_note.png"))
            # The note never reaches the widget, live or after a reload.
            assert NOTE not in await shop.content()
            await shop.reload()  # the widget reopens by itself and replays the chat
            await expect(log.locator(".lk-agent .lk-bubble")).to_contain_text(
                "Let me check", timeout=STEP
            )
            assert NOTE not in await shop.content()
        finally:
            await browser.close()
    assert problems == []
    [chat] = await live.service.conversations_of_agent(alice.id)
    stored = [m.text for m in await live.service.messages_since(chat.id)]
    assert NOTE not in stored and "Let me check" in stored
