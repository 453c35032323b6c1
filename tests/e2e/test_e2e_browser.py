"""The customer widget and the agent desk in headless Chromium, on the real stack."""

from __future__ import annotations

import asyncio
import re

import pytest

from handoff.settings import PROJECT_ROOT
from tests.helpers import CHROMIUM_ARGS, chromium_path

pytestmark = [pytest.mark.asyncio, pytest.mark.integration, pytest.mark.browser]
SHOTS = PROJECT_ROOT / "reports" / "screenshots"
ARGS = CHROMIUM_ARGS
STEP = 60_000  # ms: generous for a shared 2-core machine; only a hang reaches it
LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}


async def wait_until(check, what: str) -> None:
    """Poll ``check()`` for up to STEP ms (no timing assertion: only a hang fails)."""
    for _ in range(STEP // 100):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


def watch(page, problems):
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


async def test_customer_and_agent_in_the_browser(stack):
    from playwright.async_api import async_playwright, expect

    executable = chromium_path()
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            # The agent is online before the customer escalates (else: offline ticket).
            desk_context = await browser.new_context(viewport=LAPTOP)
            desk = await desk_context.new_page()
            watch(desk, problems)
            await desk.goto(f"{stack.url}/desk")
            await desk.fill("#login-name", "demo")
            await desk.fill("#login-password", "demo")
            await desk.click("button[type=submit]")
            await expect(desk.locator("#connection")).to_have_text("live", timeout=STEP)

            shop_context = await browser.new_context(viewport=LAPTOP)
            shop = await shop_context.new_page()
            watch(shop, problems)
            # Every widget socket goes through the test, which can cut it like a network.
            sockets: list = []

            def through(route):
                route.connect_to_server()
                sockets.append(route)

            await shop.route_web_socket(re.compile(r".*/api/conversations/.*/ws$"), through)
            await shop.goto(stack.url + "/")
            launcher = shop.locator(".lk-launcher")
            await expect(launcher).to_be_visible(timeout=STEP)
            await shop.screenshot(path=str(SHOTS / "shop-laptop.png"))
            await launcher.click()
            panel = shop.get_by_role("dialog")
            await expect(panel).to_be_visible()
            log = shop.get_by_role("log")
            first = log.locator(".lk-msg").first
            await expect(first.locator(".lk-who")).to_have_text("Assistant (bot)", timeout=STEP)
            await expect(first.locator(".lk-bubble")).to_contain_text("automated bot, not a person")
            await expect(shop.locator(".lk-status")).to_contain_text("assistant (a bot)")
            await expect(shop.locator(".lk-person")).to_be_visible()

            messages = log.locator(".lk-msg")
            await shop.fill("#lk-input", "How do I return an item?")
            await shop.press("#lk-input", "Enter")
            answer = log.locator(".lk-msg.lk-bot .lk-bubble", has_text="Return items")
            await expect(answer).to_have_count(1, timeout=STEP)
            await expect(log.locator(".lk-msg.lk-customer .lk-who").first).to_have_text("You")

            await shop.fill("#lk-input", "this is useless, I want a human")
            await shop.press("#lk-input", "Enter")
            banner = shop.locator(".lk-banner-text")
            await expect(banner).to_contain_text("in line", timeout=STEP)
            await expect(shop.locator(".lk-status")).to_contain_text("Waiting for a person")
            await shop.screenshot(path=str(SHOTS / "widget-queued.png"))

            # The agent sees why, and what was said, then picks the chat up.
            item = desk.locator("#queue-list .item", has_text="How do I return an item?")
            await expect(item).to_have_count(1, timeout=STEP)
            await item.click()
            await expect(desk.locator("#ctx-summary")).not_to_be_empty(timeout=STEP)
            await expect(desk.locator("#chat-reason")).not_to_be_empty()
            await expect(desk.locator("#transcript")).to_contain_text("How do I return an item?")
            await desk.click("#claim-btn")
            await expect(desk.locator("#reply-text")).to_be_visible(timeout=STEP)

            await expect(
                log.locator(".lk-notice", has_text="Demo Agent joined the chat.")
            ).to_have_count(1, timeout=STEP)
            await expect(shop.locator(".lk-status")).to_contain_text("Demo Agent (a person)")

            await desk.fill("#reply-text", "Hi, I'm from the Larkspur team. Which order is it?")
            await desk.press("#reply-text", "Enter")
            agent_message = log.locator(".lk-msg.lk-agent")
            await expect(agent_message.locator(".lk-who")).to_have_text("Demo Agent", timeout=STEP)
            await expect(agent_message.locator(".lk-bubble")).to_contain_text("Which order")

            # The connection drops; the agent writes meanwhile; the widget reconnects by
            # itself and shows what it missed, once.
            await wait_until(lambda: sockets, "the widget has a socket")
            before = len(sockets)
            await sockets[-1].close(code=4000, reason="network dropped (test)")
            await desk.fill("#reply-text", "Still there? I sent this while you were offline.")
            await desk.press("#reply-text", "Enter")
            missed = log.locator(".lk-msg.lk-agent .lk-bubble", has_text="while you were offline")
            await expect(missed).to_have_count(1, timeout=STEP)
            await wait_until(lambda: len(sockets) > before, "the widget reconnected")

            await shop.fill("#lk-input", "Order 4821 <b>please</b>")
            await shop.press("#lk-input", "Enter")
            await expect(desk.locator("#transcript")).to_contain_text(
                "Order 4821 <b>please</b>", timeout=STEP
            )
            assert await shop.locator(".lk-log b").count() == 0  # text, never markup

            await shop.screenshot(path=str(SHOTS / "widget-laptop.png"))
            await desk.screenshot(path=str(SHOTS / "desk-with-customer.png"))

            await desk.click("#handback-btn")
            await expect(
                log.locator(".lk-notice", has_text="The assistant is back.")
            ).to_have_count(1, timeout=STEP)
            await expect(shop.locator(".lk-status")).to_contain_text("assistant (a bot)")

            await shop.fill("#lk-input", "Which payment methods do you accept?")
            await shop.press("#lk-input", "Enter")
            await expect(log.locator(".lk-msg.lk-bot .lk-bubble", has_text="Visa")).to_have_count(
                1, timeout=STEP
            )

            # A reload keeps the conversation, without duplicates.
            count = await messages.count()
            await shop.reload()
            await expect(shop.get_by_role("dialog")).to_be_visible(timeout=STEP)
            await expect(messages).to_have_count(count, timeout=STEP)
            await expect(log.locator(".lk-bubble", has_text="Visa")).to_have_count(1)

            # Keyboard: Escape closes and gives focus back to the launcher.
            await shop.locator("#lk-input").focus()
            await shop.keyboard.press("Escape")
            await expect(shop.get_by_role("dialog")).to_be_hidden()
            await expect(launcher).to_be_focused()
            await launcher.press("Enter")
            await expect(shop.locator("#lk-input")).to_be_focused()

            # Leaving: one CSAT question.
            await shop.click(".lk-end")
            await expect(shop.locator(".lk-closed")).to_be_visible(timeout=STEP)
            await shop.click(".lk-score[data-score='5']")
            await expect(shop.locator(".lk-closed")).to_contain_text("Thank you for your feedback")
            await expect(shop.locator(".lk-csat")).to_be_hidden()
            await shop.screenshot(path=str(SHOTS / "widget-closed.png"))

            # The phone-sized widget.
            phone_context = await browser.new_context(
                viewport=PHONE, is_mobile=True, has_touch=True
            )
            phone = await phone_context.new_page()
            watch(phone, problems)
            await phone.goto(stack.url + "/")
            await expect(phone.locator(".lk-launcher")).to_be_visible(timeout=STEP)
            await phone.screenshot(path=str(SHOTS / "shop-phone.png"))
            await phone.locator(".lk-launcher").click()
            await phone.fill("#lk-input", "How long does delivery take?")
            await phone.press("#lk-input", "Enter")
            await expect(phone.locator(".lk-msg.lk-bot").nth(1)).to_be_visible(timeout=STEP)
            box = await phone.get_by_role("dialog").bounding_box()
            assert box and box["width"] == PHONE["width"]  # full screen on a phone
            await phone.screenshot(path=str(SHOTS / "widget-phone.png"))
        finally:
            await browser.close()
    assert problems == []
