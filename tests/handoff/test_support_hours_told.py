"""Support hours an admin edits in the desk are what customers are told: the assistant's
hours answer (the real action, asking a desk served on 127.0.0.1) and the offline note,
after a restart too; when the desk cannot tell, the assistant says shop.yml's sentence."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from actions import support_hours
from actions.content import shop_facts
from tests.helpers import hours_answer
from tools.stack.runner import free_port

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse"
FILE_SENTENCE = (
    "Monday to Thursday 9:00-18:00, Friday 9:00-17:00 and Saturday 10:00-14:00 (UK time)"
)
# Open on Sundays now, closed on Wednesdays and Saturdays.
EDITED = {
    "timezone": "Europe/London",
    "weekly": {
        "mon": "08:00-16:00",
        "tue": "08:00-16:00",
        "wed": "closed",
        "thu": "08:00-16:00",
        "fri": "08:00-16:00",
        "sat": "closed",
        "sun": "10:00-16:00",
    },
    "holidays": ["2026-12-25"],
}
EDITED_SENTENCE = (
    "Monday to Tuesday 8:00-16:00, Thursday to Friday 8:00-16:00 and Sunday 10:00-16:00 "
    "(Europe/London time)"
)


async def admin_headers(
    http: aiohttp.ClientSession, desk: Any, create: bool = True
) -> dict[str, str]:
    """An admin signed in over HTTP (created first unless ``create`` is false)."""
    if create:
        await desk.service.create_agent("root", "Root", PASSWORD, role="admin")
    async with http.post(
        desk.url + "/api/agent/login", json={"login": "root", "password": PASSWORD}
    ) as response:
        assert response.status == 200
        return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def edit_hours(desk: Any, section: dict[str, Any] = EDITED) -> tuple[int, Any]:
    """An admin signs in and PUTs ``section`` as the support hours: (status, body)."""
    async with aiohttp.ClientSession() as http:
        headers = await admin_headers(http, desk)
        async with http.put(
            desk.url + "/api/admin/hours", json={"support_hours": section}, headers=headers
        ) as response:
            return response.status, await response.json()


@pytest.fixture
def file_hours_desk(app_factory, serve_desk):
    """Factory: a desk on 127.0.0.1 with shop.yml's hours (and the desk's edits), on the
    test's one database (two calls: the same desk started again)."""

    async def start() -> Any:
        return await serve_desk(app_factory(hours=None))

    return start


async def test_hours_edited_in_the_desk_are_what_the_assistant_and_the_offline_note_say(
    file_hours_desk, monkeypatch
):
    desk = await file_hours_desk()
    monkeypatch.setenv("WEB_APP_URL", desk.url)
    assert shop_facts()["support_hours"] == FILE_SENTENCE
    assert f"People are available {FILE_SENTENCE}." in await hours_answer()
    async with aiohttp.ClientSession() as http:
        headers = await admin_headers(http, desk)
        async with http.get(desk.url + "/api/admin/hours", headers=headers) as response:
            before = await response.json()
        assert (before["source"], before["summary"]) == ("file", FILE_SENTENCE)
        assert "summary" not in before["support_hours"]  # said apart, not edited

        async with http.put(
            desk.url + "/api/admin/hours", json={"support_hours": EDITED}, headers=headers
        ) as response:
            saved = await response.json()
        assert response.status == 200, saved
        assert (saved["source"], saved["summary"]) == ("desk", EDITED_SENTENCE)

        # A typed summary beside the schedule is refused (it would go stale): nothing lost.
        async with http.put(
            desk.url + "/api/admin/hours",
            json={"support_hours": {**EDITED, "summary": "Monday to Saturday"}},
            headers=headers,
        ) as response:
            refused = await response.json()
        assert response.status == 422 and "summary" in refused["error"]
        async with http.get(desk.url + "/api/agent/support-hours") as response:
            assert (await response.json())["summary"] == EDITED_SENTENCE

    answer = await hours_answer()
    assert f"People are available {EDITED_SENTENCE}." in answer
    assert "Saturday" not in answer

    # Nobody is online (or it is outside the new hours): the offline notice names them.
    conversation = await desk.service.create_conversation()
    result = await desk.service.enqueue(conversation.id, "customer_request")
    assert result.outcome == "offline"
    assert result.message.endswith(f"Our support hours: {EDITED_SENTENCE}.")


async def test_a_restarted_desk_still_says_the_edited_hours_and_a_reset_brings_back_the_file(
    file_hours_desk, monkeypatch
):
    first = await file_hours_desk()
    assert (await edit_hours(first))[0] == 200
    again = await file_hours_desk()  # a new process on the same database
    monkeypatch.setenv("WEB_APP_URL", again.url)
    assert f"People are available {EDITED_SENTENCE}." in await hours_answer()
    conversation = await again.service.create_conversation()
    result = await again.service.enqueue(conversation.id, "customer_request")
    assert result.message.endswith(f"Our support hours: {EDITED_SENTENCE}.")

    # Back to shop.yml, on the first desk: its sentence again.
    async with aiohttp.ClientSession() as http:
        headers = await admin_headers(http, first, create=False)
        async with http.delete(first.url + "/api/admin/hours", headers=headers) as response:
            assert (await response.json())["summary"] == FILE_SENTENCE
    monkeypatch.setenv("WEB_APP_URL", first.url)
    assert f"People are available {FILE_SENTENCE}." in await hours_answer()


class FakeWebApp:
    """A web app that answers the hours route badly, on 127.0.0.1."""

    def __init__(self, reply: web.Response | None) -> None:
        self.reply = reply  # None: never answers
        self.asked = 0
        self.release = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.asked += 1
        if self.reply is None:
            await self.release.wait()  # long after the client gave up
            return web.json_response({"summary": "too late"})
        return self.reply

    async def start(self) -> FakeWebApp:
        app = web.Application()
        app.router.add_get(support_hours.SUPPORT_HOURS_PATH, self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        assert self.runner is not None
        self.release.set()
        await self.runner.cleanup()


@pytest.mark.parametrize(
    "reply",
    [
        web.json_response({"error": "database unavailable"}, status=500),
        web.Response(text="<html>gateway</html>", content_type="text/html"),
        web.json_response({"summary": ""}),
        web.json_response(["not", "an", "object"]),
        None,
    ],
    ids=["error", "not-json", "empty", "not-an-object", "no-answer"],
)
async def test_a_failed_lookup_says_the_files_sentence(reply, monkeypatch):
    monkeypatch.setattr(support_hours, "TIMEOUT_S", 0.5)
    fake = await FakeWebApp(reply).start()
    try:
        monkeypatch.setenv("WEB_APP_URL", fake.url)
        assert f"People are available {FILE_SENTENCE}." in await hours_answer()
        assert fake.asked == 1
    finally:
        await fake.stop()


async def test_no_web_app_says_the_files_sentence_and_the_next_worker_is_asked(
    file_hours_desk, monkeypatch
):
    monkeypatch.delenv("WEB_APP_URL", raising=False)
    assert f"People are available {FILE_SENTENCE}." in await hours_answer()
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("WEB_APP_URL", nobody)
    assert f"People are available {FILE_SENTENCE}." in await hours_answer()

    desk = await file_hours_desk()
    assert (await edit_hours(desk))[0] == 200
    monkeypatch.setenv("WEB_APP_URL", f"{nobody}, {desk.url}/")
    assert f"People are available {EDITED_SENTENCE}." in await hours_answer()


async def test_outside_the_edited_hours_the_notice_names_the_next_opening_and_the_new_hours(
    sqlite_service,
):
    # The test clock is Wednesday 25 November 2026, noon: closed in the edited schedule.
    await sqlite_service.office_hours.set_hours(EDITED, by=None)
    conversation = await sqlite_service.create_conversation()
    result = await sqlite_service.enqueue(conversation.id, "customer_request")
    assert (result.outcome, result.offline_reason) == ("offline", "closed")
    assert "(Thursday 26 November at 08:00, Europe/London time)" in result.message
    assert result.message.endswith(f"Our support hours: {EDITED_SENTENCE}.")
