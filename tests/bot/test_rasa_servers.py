"""Several Rasa servers behind one client (RASA_URLS): calls spread over the healthy ones,
a server that refuses is skipped at once, and used again when its probe sees it ready."""

from __future__ import annotations

import asyncio

import pytest
from bot_support import RASA_TOKEN, FakeRasa, free_port

from bot.rasa_client import RasaClient, RasaUnavailable
from bot.settings import BotSettings


async def test_calls_are_spread_over_the_servers(fake_rasa: FakeRasa):
    other = FakeRasa()
    await other.start()
    client = RasaClient([fake_rasa.url, other.url], RASA_TOKEN, 5.0)
    try:
        for turn in range(6):
            await client.send("c1", f"question {turn}")
    finally:
        await client.close()
        await other.stop()
    assert len(fake_rasa.webhook_texts()) == 3 and len(other.webhook_texts()) == 3


async def test_a_refused_server_is_skipped_at_once_and_used_again_when_ready(
    fake_rasa: FakeRasa,
):
    stopped = FakeRasa()  # not started yet: its port refuses connections
    client = RasaClient([stopped.url, fake_rasa.url], RASA_TOKEN, 5.0, probe_seconds=0.05)
    try:
        for turn in range(4):
            replies = await client.send("c1", f"question {turn}")
            assert replies[0]["text"] == f"Bot answer to: question {turn}"
        assert len(fake_rasa.webhook_texts()) == 4  # every message answered, none lost
        assert not client.pool.servers[0].healthy

        await stopped.start()
        for _ in range(100):
            if client.pool.servers[0].healthy:
                break
            await asyncio.sleep(0.05)
        assert client.pool.servers[0].healthy
        for turn in range(4):
            await client.send("c1", f"again {turn}")
        assert len(stopped.webhook_texts()) == 2  # it takes its share again
    finally:
        await client.close()
        await stopped.stop()


async def test_all_servers_refusing_is_rasa_unavailable():
    client = RasaClient(
        [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"], RASA_TOKEN, 5.0
    )
    try:
        with pytest.raises(RasaUnavailable):
            await client.send("c1", "hello")
        assert not any(server.healthy for server in client.pool.servers)
    finally:
        await client.close()


def test_rasa_urls_name_every_server_and_override_rasa_url():
    settings = BotSettings.from_env(
        {
            "RASA_URL": "http://127.0.0.1:5005",
            "RASA_URLS": "http://10.0.0.5:5005/, http://10.0.0.6:5005",
            "RASA_TOKEN": "t",
        }
    )
    assert settings.rasa_servers == ("http://10.0.0.5:5005", "http://10.0.0.6:5005")
    assert BotSettings.from_env({"RASA_TOKEN": "t"}).rasa_servers == ("http://127.0.0.1:5005",)


@pytest.mark.parametrize(
    "value", ["10.0.0.5:5005", "ftp://x", "http://a:1,http://a:1", "http://:5005"]
)
def test_a_bad_rasa_urls_is_a_clear_error(value: str):
    with pytest.raises(ValueError, match="RASA_URLS"):
        BotSettings.from_env({"RASA_URLS": value, "RASA_TOKEN": "t"})
