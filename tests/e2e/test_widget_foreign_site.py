"""The widget on the shop's own site, in headless Chromium on the real stack: a page on
another origin embeds it with one tag; a site not listed is told chat is not available;
right-to-left messages; a returning customer in the desk."""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from test_e2e_browser import ARGS, LAPTOP, SHOTS, STEP, chromium_path, watch

from bot import identity
from tools.stack.runner import free_port

pytestmark = [pytest.mark.asyncio, pytest.mark.integration, pytest.mark.browser]

HEBREW = "שלום, איפה ההזמנה שלי?"
PERSIAN = "سلام، سفارش من کجاست؟"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Fern & Moss: a shop elsewhere</title></head>
<body style="font-family: sans-serif; margin: 40px">
<h1>Fern &amp; Moss</h1><p>Another site, another origin: the chat comes from {chat}.</p>
{config}
<script src="{chat}/widget.js" defer></script>
</body></html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the test's output stays readable
        pass


@pytest.fixture
def foreign_site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A plain static server (like python -m http.server) on 127.0.0.1 and 127.0.0.2:
    ``localhost`` is a listed origin in the demo, ``127.0.0.2`` is not."""
    port = free_port()
    servers = []
    for host in ("127.0.0.1", "127.0.0.2"):
        handler = functools.partial(QuietHandler, directory=str(tmp_path))
        server = ThreadingHTTPServer((host, port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield tmp_path, port
    for server in servers:
        server.shutdown()
        server.server_close()


def conversations(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])


def customer_config(secret: str, customer_id: str, name: str, email: str) -> str:
    ts = int(time.time())
    signature = identity.sign(secret, customer_id, email, name, ts)
    # What the shop's server would render for its logged-in customer.
    return (
        "<script>window.LarkspurChat = {customer: "
        f'{{id: "{customer_id}", name: "{name}", email: "{email}", timestamp: {ts}, '
        f'signature: "{signature}"}}}};</script>'
    )


async def direction(locator) -> str:
    return await locator.evaluate("node => getComputedStyle(node).direction")


async def test_a_foreign_page_chats_and_right_to_left_text_reads_right_to_left(stack, foreign_site):
    from playwright.async_api import async_playwright, expect

    folder, port = foreign_site
    (folder / "shop.html").write_text(PAGE.format(chat=stack.url, config=""), encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            page = await (await browser.new_context(viewport=LAPTOP)).new_page()
            watch(page, problems)
            await page.goto(f"http://localhost:{port}/shop.html")
            await page.locator(".lk-launcher").click()
            log = page.get_by_role("log")
            await expect(log.locator(".lk-msg.lk-bot").first).to_contain_text(
                "automated bot", timeout=STEP
            )
            assert await page.locator(".lk-root").get_attribute("lang") == "en"
            await page.fill("#lk-input", "How do I return an item?")
            await page.press("#lk-input", "Enter")
            await expect(
                log.locator(".lk-msg.lk-bot .lk-bubble", has_text="Return items")
            ).to_have_count(1, timeout=STEP)

            bots_before = await log.locator(".lk-msg.lk-bot").count()
            for text in (HEBREW, PERSIAN):
                await page.fill("#lk-input", text)
                assert await direction(page.locator("#lk-input")) == "rtl"
                await page.press("#lk-input", "Enter")
                bubble = log.locator(".lk-msg.lk-customer .lk-bubble", has_text=text)
                await expect(bubble).to_have_count(1, timeout=STEP)
                assert await direction(bubble) == "rtl", text
            # The assistant's English answer after them reads left to right.
            await expect(log.locator(".lk-msg.lk-bot")).to_have_count(bots_before + 2, timeout=STEP)
            reply = log.locator(".lk-msg.lk-bot .lk-bubble").last
            assert await direction(reply) == "ltr"
            assert await direction(log.locator(".lk-msg.lk-customer .lk-bubble").first) == "ltr"
            await page.screenshot(path=str(SHOTS / "widget-foreign-site.png"))
        finally:
            await browser.close()
    assert problems == []


async def test_a_site_not_listed_is_told_chat_is_not_available(stack, foreign_site):
    from playwright.async_api import async_playwright, expect

    folder, port = foreign_site
    (folder / "shop.html").write_text(PAGE.format(chat=stack.url, config=""), encoding="utf-8")
    before = conversations(stack.database)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            page = await (await browser.new_context(viewport=LAPTOP)).new_page()
            await page.goto(f"http://127.0.0.2:{port}/shop.html")
            await page.locator(".lk-launcher").click()
            alert = page.locator(".lk-alert")
            await expect(alert).to_have_text("Chat is not available on this site.", timeout=STEP)
            await expect(page.locator("#lk-input")).to_be_hidden()
            await expect(page.locator(".lk-end")).to_be_hidden()
            await expect(page.locator(".lk-typing")).to_be_hidden()
            await page.screenshot(path=str(SHOTS / "widget-site-not-listed.png"))
        finally:
            await browser.close()
    assert conversations(stack.database) == before


async def test_the_desk_knows_a_returning_customer(stack, foreign_site, identity_secret):
    from playwright.async_api import async_playwright, expect

    folder, port = foreign_site
    config = customer_config(identity_secret, "shop-customer-7", "Noa Levi", "noa@example.com")
    (folder / "account.html").write_text(
        PAGE.format(chat=stack.url, config=config), encoding="utf-8"
    )
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            desk = await (await browser.new_context(viewport=LAPTOP)).new_page()
            await desk.goto(f"{stack.url}/desk")
            await desk.fill("#login-name", "demo")
            await desk.fill("#login-password", "demo")
            await desk.click("button[type=submit]")
            await expect(desk.locator("#connection")).to_have_text("live", timeout=STEP)

            # Last week, on the laptop: a question, a person asked for, the chat ended
            # and rated.
            laptop = await (await browser.new_context(viewport=LAPTOP)).new_page()
            await laptop.goto(f"http://localhost:{port}/account.html")
            await laptop.locator(".lk-launcher").click()
            log = laptop.get_by_role("log")
            await expect(log.locator(".lk-msg.lk-bot").first).to_be_visible(timeout=STEP)
            await laptop.fill("#lk-input", "My parcel 5120 has not arrived")
            await laptop.press("#lk-input", "Enter")
            await expect(log.locator(".lk-msg.lk-customer")).to_have_count(1, timeout=STEP)
            # The button is pressed after the assistant has answered, as a person would.
            await expect(log.locator(".lk-msg.lk-bot").nth(1)).to_be_visible(timeout=STEP)
            await laptop.click(".lk-person")
            await expect(laptop.locator(".lk-status")).to_contain_text(
                "Waiting for a person", timeout=STEP
            )
            await laptop.click(".lk-end")
            await laptop.click(".lk-score[data-score='4']")
            await expect(laptop.locator(".lk-closed")).to_contain_text("Thank you", timeout=STEP)

            # Today, on the phone: another chat; the earlier one is closed, so none is offered.
            phone = await (await browser.new_context(viewport=LAPTOP)).new_page()
            await phone.goto(f"http://localhost:{port}/account.html")
            await phone.locator(".lk-launcher").click()
            await expect(phone.get_by_role("log").locator(".lk-msg.lk-bot").first).to_be_visible(
                timeout=STEP
            )
            await phone.fill("#lk-input", "Still no parcel, I need a person please")
            await phone.press("#lk-input", "Enter")
            # Asking in words is enough: no button press (which would race the handoff
            # that disables the button).
            await expect(phone.locator(".lk-status")).to_contain_text(
                "Waiting for a person", timeout=STEP
            )

            # A third device while that chat is open: it is offered, and continues it.
            tablet = await (await browser.new_context(viewport=LAPTOP)).new_page()
            await tablet.goto(f"http://localhost:{port}/account.html")
            await tablet.locator(".lk-launcher").click()
            await expect(tablet.locator(".lk-recent")).to_be_visible(timeout=STEP)
            await tablet.click(".lk-recent .lk-primary")
            await expect(tablet.get_by_role("log")).to_contain_text("Still no parcel", timeout=STEP)

            item = desk.locator("#queue-list .item", has_text="Still no parcel")
            await expect(item).to_have_count(1, timeout=STEP)
            await item.click()
            await expect(desk.locator("#chat-title")).to_have_text("Noa Levi", timeout=STEP)
            earlier = desk.locator("#customer-earlier .earlier-item")
            await expect(earlier).to_have_count(1, timeout=STEP)
            await expect(earlier).to_contain_text("rated 4/5")
            await earlier.locator("button").click()
            await expect(desk.locator("#earlier-transcript")).to_contain_text(
                "My parcel 5120 has not arrived", timeout=STEP
            )
            await desk.screenshot(path=str(SHOTS / "desk-returning-customer.png"))
        finally:
            await browser.close()


async def test_a_right_to_left_language_mirrors_the_widget(stack, foreign_site):
    from playwright.async_api import async_playwright, expect

    folder, port = foreign_site
    tag = f'<script src="{stack.url}/widget.js" defer data-lang="he"></script>'
    (folder / "rtl.html").write_text(
        PAGE.format(chat=stack.url, config="").replace(
            f'<script src="{stack.url}/widget.js" defer></script>', tag
        ),
        encoding="utf-8",
    )

    # Only English ships (bot/locales/en.json; the languages issue adds the others): the
    # test adds a right-to-left language to the served words, as a he.json would.
    async def with_hebrew(route):
        response = await route.fetch()
        body = (await response.text()).replace(
            "  var LOCALES = {", '  var LOCALES = {"he": {"_language": {"dir": "rtl"}}, ', 1
        )
        await route.fulfill(response=response, body=body)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            page = await (await browser.new_context(viewport=LAPTOP)).new_page()
            await page.route(f"{stack.url}/widget.js", with_hebrew)
            await page.goto(f"http://localhost:{port}/rtl.html")
            root = page.locator(".lk-root")
            await expect(root).to_have_attribute("dir", "rtl", timeout=STEP)
            await expect(root).to_have_attribute("lang", "he")
            await page.locator(".lk-launcher").click()
            await expect(page.get_by_role("log").locator(".lk-msg.lk-bot").first).to_be_visible(
                timeout=STEP
            )
            # Bottom-left corner, and the header reads from the right: avatar first.
            box = await page.locator(".lk-panel").bounding_box()
            assert box is not None and box["x"] < LAPTOP["width"] / 2
            avatar = await page.locator(".lk-avatar").bounding_box()
            close = await page.locator(".lk-close").bounding_box()
            assert avatar is not None and close is not None and avatar["x"] > close["x"]
            # The assistant's English words still read left to right inside.
            bubble = page.locator(".lk-msg.lk-bot .lk-bubble").first
            assert await direction(bubble) == "ltr"
            await page.screenshot(path=str(SHOTS / "widget-right-to-left.png"))
        finally:
            await browser.close()
