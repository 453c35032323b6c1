"""The desk in headless Chromium: log in, see the queue, claim, reply, hand back."""

import pytest

from handoff.settings import PROJECT_ROOT
from tests.helpers import CHROMIUM_ARGS, chromium_path

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
SCREENSHOT = PROJECT_ROOT / "reports" / "screenshots" / "desk.png"
ARGS = CHROMIUM_ARGS
STEP = 20_000  # ms; generous for a shared machine, only a hang reaches it

CONTEXT = {
    "reason": "frustration",
    "summary": "Order #4821 was due on Monday and has not arrived. The tracking page has "
    "not changed for five days; the customer has asked twice and wants a refund.",
    "intents": [
        {"name": "where_is_my_order", "confidence": 0.93},
        {"name": "refund", "confidence": 0.61},
    ],
    "frustration": {"score": 0.82, "cues": ["repeated question", "ALL CAPS", "!!!"]},
    "faq_answers": ["faq/track_order"],
}


async def seed(service):
    agent = await service.create_agent("alice", "Alice Moreno", "correct horse")
    await service.set_availability(agent.id, True)
    chat = await service.create_conversation()
    await service.add_message(chat.id, "customer", "Where is my order #4821??")
    await service.add_message(
        chat.id,
        "bot",
        "I'm the shop's assistant (a bot). You can "
        "track your parcel from the link in your confirmation email.",
    )
    await service.add_message(
        chat.id,
        "customer",
        "I DID THAT ALREADY. It hasn't moved in 5 days!!! <b>I want a refund</b>",
    )
    await service.enqueue(chat.id, "frustration", CONTEXT)
    second = await service.create_conversation()
    await service.add_message(second.id, "customer", "Can I speak to a real person please?")
    await service.enqueue(second.id, "customer_request", {"summary": "Asked for a person."})
    ticket_chat = await service.create_conversation()
    await service.add_message(ticket_chat.id, "customer", "My discount code doesn't work")
    await service.leave_contact(ticket_chat.id, "sam@example.com", "Code SPRING20 rejected")
    return agent, chat


async def test_agent_claims_replies_and_hands_back(live_desk):
    from playwright.async_api import async_playwright, expect

    executable = chromium_path()
    service = live_desk.service
    agent, chat = await seed(service)
    problems = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 800})
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto(f"{live_desk.url}/desk")

            await page.fill("#login-name", "alice")
            await page.fill("#login-password", "wrong password")
            await page.click("button[type=submit]")
            await expect(page.locator("#login-error")).to_have_text(
                "wrong login or password", timeout=STEP
            )
            await page.fill("#login-password", "correct horse")
            await page.click("button[type=submit]")

            queue = page.locator("#queue-list .item")
            await expect(queue).to_have_count(2, timeout=STEP)
            first = queue.nth(0)
            await expect(first).to_contain_text("Frustrated")
            await expect(first).to_contain_text("Where is my order #4821??")
            await expect(page.locator("#agent-load")).to_have_text("0/3")
            await expect(page.locator("#connection")).to_have_text("live", timeout=STEP)
            await expect(page.locator("#ticket-list .item")).to_contain_text("sam@example.com")

            await first.click()
            await expect(page.locator("#ctx-summary")).to_contain_text("Order #4821")
            await expect(page.locator("#ctx-intents")).to_contain_text("where_is_my_order 93%")
            await expect(page.locator("#ctx-cues")).to_contain_text("ALL CAPS")
            transcript = page.locator("#transcript .msg")
            await expect(transcript).to_have_count(3)
            await expect(transcript.nth(1).locator(".who")).to_have_text("Assistant (bot)")
            # HTML from a customer is shown as text, never rendered.
            await expect(transcript.nth(2).locator(".bubble")).to_contain_text(
                "<b>I want a refund</b>"
            )
            assert await page.locator("#transcript b").count() == 0

            await page.click("#claim-btn")
            await expect(page.locator("#reply-text")).to_be_visible(timeout=STEP)
            await expect(page.locator("#agent-load")).to_have_text("1/3", timeout=STEP)
            await expect(page.locator("#mine-list .item")).to_have_count(1)
            await expect(page.locator("#queue-list .item")).to_have_count(1, timeout=STEP)

            await page.fill(
                "#reply-text",
                "Hi, I'm Alice from the support team. I'm sorry "
                "about the wait. Let me check order #4821 with the courier now.",
            )
            await page.press("#reply-text", "Enter")
            await expect(transcript).to_have_count(4, timeout=STEP)
            await expect(transcript.nth(3).locator(".who")).to_have_text("Alice Moreno (you)")
            await expect(page.locator("#reply-text")).to_have_value("")

            # The customer answers; the desk shows it live.
            await service.add_message(chat.id, "customer", "Thank you, finally a human!")
            await expect(transcript).to_have_count(5, timeout=STEP)
            await expect(transcript.nth(4)).to_contain_text("finally a human")

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))

            await page.click("#handback-btn")
            await expect(page.locator("#chat-notice")).to_contain_text(
                "Handed back to the bot", timeout=STEP
            )
            await expect(page.locator("#agent-load")).to_have_text("0/3", timeout=STEP)
            await expect(page.locator("#reply-form")).to_be_hidden()
        finally:
            await browser.close()

    stored = await service.messages_since(chat.id, 0)
    assert [m.author for m in stored] == ["customer", "bot", "customer", "agent", "customer"]
    assert stored[3].agent_id == agent.id
    assert (await service.get_conversation(chat.id)).state == "bot"
    # The one expected console error is the refused wrong password (HTTP 401).
    assert [p for p in problems if "status of 401" not in p] == []
