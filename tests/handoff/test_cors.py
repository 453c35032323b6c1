"""handoff/web/cors.py: which origins may embed the widget, and WIDGET_ORIGINS parsing."""

from __future__ import annotations

import pytest

from bot.settings import BotSettings
from handoff.web.cors import DEMO_ORIGINS, OriginPolicy, parse_origins


def test_ports_schemes_and_hosts_must_all_match():
    policy = OriginPolicy.from_list(["https://shop.example", "http://localhost:*"])
    assert policy.allows("https://shop.example")
    assert policy.allows("https://shop.example:443")  # the default port is the same origin
    assert policy.allows("http://localhost:3000") and policy.allows("http://localhost")
    for other in (
        "http://shop.example",
        "https://shop.example:8443",
        "https://www.shop.example",
        "https://shop.example.evil.example",
        "http://127.0.0.1:3000",
        "null",
        "",
        "https://shop.example/path",
    ):
        assert not policy.allows(other), other


def test_the_servers_own_origin_is_always_allowed():
    assert OriginPolicy(()).allows("http://127.0.0.1:8000", "http://127.0.0.1:8000")
    assert not OriginPolicy(()).allows("http://127.0.0.1:8001", "http://127.0.0.1:8000")


@pytest.mark.parametrize(
    "raw", ["*", "shop.example", "https://shop.example/", "https://*.shop.example", "ftp://x"]
)
def test_a_mistyped_origin_is_refused_with_its_name(raw):
    with pytest.raises(ValueError, match="WIDGET_ORIGINS"):
        parse_origins(raw)
    with pytest.raises(ValueError, match="WIDGET_ORIGINS"):
        BotSettings.from_env({"WIDGET_ORIGINS": raw})


def test_the_demo_allows_local_pages_and_nothing_is_allowed_by_default():
    assert BotSettings.from_env({"HANDOFF_DEMO": "1"}).widget_origins == DEMO_ORIGINS
    assert BotSettings.from_env({}).widget_origins == ()
    listed = BotSettings.from_env({"WIDGET_ORIGINS": "https://a.example, https://b.example"})
    assert listed.widget_origins == ("https://a.example", "https://b.example")
    # Listed explicitly, the demo's defaults do not apply.
    assert BotSettings.from_env(
        {"HANDOFF_DEMO": "1", "WIDGET_ORIGINS": "https://a.example"}
    ).widget_origins == ("https://a.example",)


def test_the_identity_secret_must_be_long():
    with pytest.raises(ValueError, match="WIDGET_IDENTITY_SECRET"):
        BotSettings.from_env({"WIDGET_IDENTITY_SECRET": "short"})
