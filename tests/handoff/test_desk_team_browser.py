"""A shift in headless Chromium: an admin sets up a team, a saved reply and a label on the
admin page; an agent takes a chat routed to the team, inserts the saved reply with "/",
writes a private note, labels the chat and transfers it to a colleague, whose desk gets it
with the note. Screenshots of each view go to reports/screenshots/."""

import datetime as dt

import pytest
from test_handoff_browser import ARGS, STEP, chromium_path

from handoff.settings import PROJECT_ROOT

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]
SHOTS = PROJECT_ROOT / "reports" / "screenshots"
PASSWORD = "correct horse"


async def sign_in(page, url, login):
    await page.goto(f"{url}/desk")
    await page.fill("#login-name", login)
    await page.fill("#login-password", PASSWORD)
    await page.click("button[type=submit]")


async def test_admin_sets_up_and_agent_uses_replies_notes_and_labels(live_desk):
    from playwright.async_api import async_playwright, expect

    executable = chromium_path()
    service = live_desk.service
    await service.create_agent("root", "Rita Admin", PASSWORD, role="admin")
    alice = await service.create_agent("alice", "Alice Moreno", PASSWORD)
    bob = await service.create_agent("bob", "Bob Stone", PASSWORD)
    await service.set_availability(alice.id, True)
    other = await service.create_conversation()
    await service.add_message(other.id, "customer", "Do you ship to Norway?")
    await service.enqueue(other.id, "customer_request", {"summary": "Shipping question."})
    third = await service.create_conversation()
    await service.add_message(third.id, "customer", "How do I change my password?")
    await service.enqueue(third.id, "customer_request", {"summary": "Password."})
    problems = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            # -- the admin --------------------------------------------------------------
            admin = await browser.new_page(viewport={"width": 1366, "height": 900})
            admin.on("pageerror", lambda e: problems.append(str(e)))
            await sign_in(admin, live_desk.url, "root")
            await expect(admin.locator("#admin-link")).to_be_visible(timeout=STEP)
            await admin.click("#admin-link")  # same tab: the page uses the desk's session
            await expect(admin.locator("#agent-rows tr")).to_have_count(3, timeout=STEP)
            await admin.fill("#team-name", "Returns")
            await admin.click("#team-form button[type=submit]")
            returns_row = admin.locator("#team-rows li", has_text="Returns")
            await expect(returns_row).to_have_count(1, timeout=STEP)
            await returns_row.get_by_label("Alice Moreno").check()
            await expect(admin.locator("#audit-rows tr").first).to_contain_text(
                "team.members_changed", timeout=STEP
            )
            await admin.fill("#reply-shortcut", "refund")
            await admin.fill("#reply-title", "Refund on its way")
            await admin.fill(
                "#reply-text",
                "Hi {customer_name}, I'm {agent_name} from {shop_name}. I've started your refund.",
            )
            await admin.click("#reply-form button[type=submit]")
            await expect(admin.locator("#reply-rows li")).to_have_count(1, timeout=STEP)
            await admin.fill("#label-name", "refund")
            await admin.click("#label-form button[type=submit]")
            await expect(admin.locator("#label-rows li")).to_contain_text("refund", timeout=STEP)
            audit = admin.locator("#audit-rows tr")
            await expect(audit.nth(0)).to_contain_text("rootlabel.createdrefund", timeout=STEP)
            await expect(audit.nth(1)).to_contain_text("rootsaved_reply.createdrefund")
            # Support hours: shop.yml's by default; this shop now answers around the clock.
            await expect(admin.locator("#hours-source")).to_have_text("(from shop.yml)")
            await expect(admin.locator("#hours-sun")).to_have_value("closed")
            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
                await admin.fill(f"#hours-{day}", "00:00-24:00")
            await admin.fill("#hours-holidays", "")
            await admin.click("#hours-form button[type=submit]")
            await expect(admin.locator("#hours-source")).to_have_text(
                "(set in the desk)", timeout=STEP
            )
            await admin.screenshot(path=str(SHOTS / "desk_admin.png"), full_page=True)
            assert service.hours.is_open(dt.datetime(2026, 11, 29, 3, tzinfo=dt.timezone.utc))

            # -- a routed chat and an agent -----------------------------------------------
            chat = await service.create_conversation()
            await service.add_message(
                chat.id, "customer", "My parcel is two weeks late, I want my money back"
            )
            context = {"summary": "Late parcel, wants a refund.", "faq_answers": ["refund_timing"]}
            await service.enqueue(chat.id, "customer_request", context)
            assert await service.teams.teams_of([chat.id]) == {chat.id: "Returns"}
            [refund] = await service.labels.list_labels()
            await service.labels.add_to(other.id, refund.id, alice)  # a colleague labelled it
            page = await browser.new_page(viewport={"width": 1366, "height": 800})
            page.on("pageerror", lambda e: problems.append(str(e)))
            await sign_in(page, live_desk.url, "alice")
            await expect(page.locator("#connection")).to_have_text("live", timeout=STEP)
            await expect(page.locator("#admin-link")).to_be_hidden()
            queue = page.locator("#queue-list .item")
            await expect(queue).to_have_count(3, timeout=STEP)
            routed = queue.filter(has_text="two weeks late")
            await expect(routed.locator(".chip.team")).to_have_text("Returns", timeout=STEP)
            await page.select_option("#queue-team-filter", label="Returns")
            await expect(page.locator("#queue-list li:visible")).to_have_count(1, timeout=STEP)
            await page.screenshot(path=str(SHOTS / "desk_queue_teams.png"))
            await page.select_option("#queue-team-filter", label="All teams")
            await queue.filter(has_text="two weeks late").click()
            await page.click("#claim-btn")
            await expect(page.locator("#reply-text")).to_be_visible(timeout=STEP)

            await page.type("#reply-text", "/ref")
            picker = page.locator("#reply-picker .pick")
            await expect(picker).to_have_count(1, timeout=STEP)
            await expect(picker.first).to_contain_text("Refund on its way")
            await page.screenshot(path=str(SHOTS / "desk_saved_reply.png"))
            await page.press("#reply-text", "Enter")  # inserts, does not send
            box = page.locator("#reply-text")
            shop = service.wording.shop_name
            await expect(box).to_have_value(
                f"Hi {{customer_name}}, I'm Alice Moreno from {shop}. I've started your refund."
            )
            # The unknown name is selected: typing replaces it.
            await page.keyboard.type("Sam")
            await expect(box).to_have_value(
                f"Hi Sam, I'm Alice Moreno from {shop}. I've started your refund."
            )
            await page.press("#reply-text", "Enter")
            transcript = page.locator("#transcript .msg")
            await expect(transcript.last).to_contain_text("Hi Sam, I'm Alice Moreno", timeout=STEP)

            await page.fill("#note-text", "Refund approved by Rita, order #5521")
            await page.click("#note-btn")
            note = page.locator("#transcript .msg.note")
            await expect(note).to_have_count(1, timeout=STEP)
            await expect(note).to_contain_text("Private note · Alice Moreno")
            await page.select_option("#chat-label-add", label="refund")
            await expect(page.locator("#chat-label-chips")).to_contain_text("refund", timeout=STEP)
            # The queue shows each chat's labels and filters on one.
            await expect(page.locator("#queue-label-filter")).to_have_value("")
            await expect(queue).to_have_count(2, timeout=STEP)
            norway = queue.filter(has_text="Norway")
            await expect(norway.locator(".chip")).to_have_text("refund", timeout=STEP)
            await page.select_option("#queue-label-filter", label="refund")
            visible = page.locator("#queue-list li:visible")
            await expect(visible).to_have_count(1, timeout=STEP)
            await expect(visible).to_contain_text("Norway")
            await page.select_option("#queue-label-filter", label="All labels")
            await expect(visible).to_have_count(2, timeout=STEP)
            await page.screenshot(path=str(SHOTS / "desk_note_and_label.png"))

            # -- transfer to a colleague, who gets the chat and the note ----------------------
            second = await browser.new_page(viewport={"width": 1366, "height": 800})
            second.on("pageerror", lambda e: problems.append(str(e)))
            await sign_in(second, live_desk.url, "bob")
            await expect(second.locator("#connection")).to_have_text("live", timeout=STEP)
            await page.click("#transfer-btn")
            await page.select_option("#transfer-target", label="Bob Stone (online, 0/3)")
            await page.fill("#transfer-note", "Refund approved, just confirm the bank details")
            await page.screenshot(path=str(SHOTS / "desk_transfer.png"))
            await page.click("#transfer-form button[type=submit]")
            await expect(page.locator("#chat-notice")).to_contain_text(
                "moved to Bob Stone", timeout=STEP
            )
            mine = second.locator("#mine-list .item")
            await expect(mine).to_have_count(1, timeout=STEP)
            await mine.first.click()
            notes = second.locator("#transcript .msg.note")
            await expect(notes).to_have_count(2, timeout=STEP)
            await expect(notes.nth(1)).to_contain_text(
                "Transferred by Alice Moreno to Bob Stone: Refund approved"
            )
            await expect(second.locator("#reply-text")).to_be_visible()
            await second.screenshot(path=str(SHOTS / "desk_after_transfer.png"))

            # -- search: Alice finds the chat she gave away and reads it, read-only ----------
            await page.click("#search-btn")
            await page.fill("#search-words", "weeks late")
            await page.select_option("#search-label", label="refund")
            await page.click("#search-form button[type=submit]")
            results = page.locator("#search-results .item")
            await expect(results).to_have_count(1, timeout=STEP)
            await expect(results.first).to_contain_text("two weeks late")
            await expect(results.first.locator(".chip.team")).to_have_text("Returns")
            await results.first.click()
            thread = page.locator("#search-transcript")
            await expect(thread.locator(".msg.note")).to_have_count(2, timeout=STEP)
            await expect(thread).to_contain_text("Hi Sam, I'm Alice Moreno")
            await expect(page.locator("#search-thread-meta")).to_contain_text("Read-only")
            await expect(page.locator("#search-view textarea")).to_have_count(0)
            await page.screenshot(path=str(SHOTS / "desk_search.png"))

            # An agent who opens the admin page is told no and sees no data.
            await page.goto(f"{live_desk.url}/desk/admin")
            await expect(page.locator("#admin-refused")).to_have_text(
                "Only admins may open this page.", timeout=STEP
            )
            await expect(page.locator("#admin-view")).to_be_hidden()
            assert await page.locator("#agent-rows tr").count() == 0
        finally:
            await browser.close()

    stored = await service.messages_since(chat.id, 0)
    assert stored[-1].author == "agent" and stored[-1].text.startswith("Hi Sam")
    assert all("Refund approved" not in m.text for m in stored)
    assert [n.text for n in await service.notes.notes_of(chat.id)][0] == (
        "Refund approved by Rita, order #5521"
    )
    assert [label.name for label in await service.labels.labels_of(chat.id)] == ["refund"]
    assert (await service.get_conversation(chat.id)).agent_id == bob.id
    assert problems == []


async def test_the_desk_names_a_signed_customer_in_queue_reply_and_search(live_desk):
    from playwright.async_api import async_playwright, expect

    executable = chromium_path()
    service = live_desk.service
    admin = await service.create_agent("root", "Rita Admin", PASSWORD, role="admin")
    alice = await service.create_agent("alice", "Alice Moreno", PASSWORD, max_chats=1)
    await service.set_availability(alice.id, True)
    await service.replies.create(
        "hi", "Greeting", "Hello {customer_name}, how can I help?", by=admin
    )
    # Alice is full (cap 1), so the next two chats wait in the queue.
    held = await service.create_conversation()
    await service.add_message(held.id, "customer", "An older question")
    await service.enqueue(held.id, "customer_request", {})
    await service.claim(held.id, alice.id)
    named = await service.create_conversation()
    await service.identify(named.id, "shop-9", "Ana Pereira", "ana.p@example.org")
    await service.add_message(named.id, "customer", "Where is my order?")
    await service.enqueue(named.id, "customer_request", {})
    anonymous = await service.create_conversation()
    await service.add_message(anonymous.id, "customer", "Do you ship abroad?")
    await service.enqueue(anonymous.id, "customer_request", {})
    problems = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 800})
            page.on("pageerror", lambda e: problems.append(str(e)))
            await sign_in(page, live_desk.url, "alice")
            queue = page.locator("#queue-list .item")
            await expect(queue).to_have_count(2, timeout=STEP)
            await expect(queue.first.locator("strong")).to_have_text("Ana Pereira")
            await expect(queue.last.locator("strong")).to_have_text(f"Visitor {anonymous.id[:6]}")
            await expect(page.locator("#mine-list .item strong")).to_have_text(
                f"Visitor {held.id[:6]}"
            )
            await page.screenshot(path=str(SHOTS / "desk_queue_customer_names.png"))
            await service.update_agent(alice.id, max_chats=2, by=admin)
            await queue.first.click()
            await page.click("#claim-btn")
            await expect(page.locator("#chat-title")).to_have_text("Ana Pereira", timeout=STEP)
            await expect(page.locator("#reply-text")).to_be_visible(timeout=STEP)
            await page.type("#reply-text", "/hi")
            picker = page.locator("#reply-picker .pick")
            await expect(picker).to_have_count(1, timeout=STEP)
            await picker.first.click()
            await expect(page.locator("#reply-text")).to_have_value(
                "Hello Ana Pereira, how can I help?"
            )
            await page.click("#search-btn")
            await page.fill("#search-contact", "ana.p@")
            await page.press("#search-contact", "Enter")
            results = page.locator("#search-results li")
            await expect(results).to_have_count(1, timeout=STEP)
            await expect(results.first).to_contain_text("Ana Pereira")
            await expect(results.first).to_contain_text("ana.p@example.org")
            await results.first.locator("button").click()
            await expect(page.locator("#search-thread-meta")).to_contain_text(
                "Ana Pereira · Read-only", timeout=STEP
            )
            await page.screenshot(path=str(SHOTS / "desk_search_customer_name.png"))
        finally:
            await browser.close()
    assert problems == []
