"""The support hours the web app has in service, asked over its HTTP API.

Admins change the hours in the agent desk; the web app keeps them (in its database, the
same on every worker). The action server is another process, so it asks the web app
(``GET {WEB_APP_URL}/api/agent/support-hours``) each time an answer names the hours
rather than reading the desk's database itself. Without ``WEB_APP_URL``, or when the
web app does not answer properly in time, the caller says shop.yml's sentence instead:
the customer always gets an answer.
"""

from __future__ import annotations

import asyncio
import logging
import os

import aiohttp

#: The web app's route (handoff/api.py); tests/handoff/test_support_hours_told.py asks a
#: real desk through it.
SUPPORT_HOURS_PATH = "/api/agent/support-hours"
# Short: the customer is waiting for the answer, and shop.yml's sentence is a fine one.
TIMEOUT_S = 2.0
logger = logging.getLogger(__name__)


def web_app_urls() -> list[str]:
    """Where the web app listens: ``WEB_APP_URL``, e.g. ``http://127.0.0.1:8000``, or
    several workers' addresses separated by commas (asked in turn until one answers)."""
    urls = os.environ.get("WEB_APP_URL", "").split(",")
    return [url.strip().rstrip("/") for url in urls if url.strip()]


async def _ask(session: aiohttp.ClientSession, base: str) -> str | None:
    try:
        async with session.get(base + SUPPORT_HOURS_PATH) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as problem:
        logger.warning("support hours from %s failed (%s)", base, problem or type(problem))
        return None
    summary = body.get("summary") if isinstance(body, dict) else None
    if not isinstance(summary, str) or not summary.strip():
        logger.warning("support hours from %s came without a summary", base)
        return None
    return summary.strip()


async def current_summary() -> str | None:
    """The hours in words as the web app says them now, or None if it cannot tell (the
    caller then says shop.yml's sentence)."""
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    for base in web_app_urls():
        async with aiohttp.ClientSession(timeout=timeout) as session:
            summary = await _ask(session, base)
        if summary is not None:
            return summary
    return None


__all__ = ["SUPPORT_HOURS_PATH", "current_summary", "web_app_urls"]
