"""tools.stack.in_process: an app served inside the test's own event loop stops as
Sanic's runner stops it, so nothing of it runs after the loop is gone."""

from __future__ import annotations

import asyncio

import aiohttp

from handoff.web.serving import new_app
from tools.stack.in_process import InProcessServer
from tools.stack.runner import free_port


async def test_stop_returns_after_the_websocket_handlers_finished_their_clean_up():
    app = new_app("in_process_stop_test")
    connected = asyncio.Event()
    cleaned_up: list[str] = []
    order: list[str] = []

    @app.websocket("/ws")
    async def socket(request, ws):
        connected.set()
        try:
            await asyncio.Event().wait()  # until the server stops (Sanic cancels it)
        finally:
            # A clean-up that awaits, like a database connection going back to the pool.
            await asyncio.sleep(0.05)
            cleaned_up.append("socket")

    @app.listener("after_server_stop")
    async def closing(app, loop):
        order.append(f"after-stop listeners, clean-ups done: {cleaned_up}")

    server = InProcessServer(app, free_port())
    await server.start()
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(server.url.replace("http", "ws") + "/ws"):
            await connected.wait()
            await server.stop()
            assert cleaned_up == ["socket"]
    # The database closes in the after-stop listeners: only once the handlers are done.
    assert order == ["after-stop listeners, clean-ups done: ['socket']"]
