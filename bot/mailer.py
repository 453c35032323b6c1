"""Transcripts by e-mail: plain text only (customer text is never put into HTML)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Iterable

from handoff.messages import Messages
from handoff.service import Message

EMAIL_PATTERN = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
MAX_EMAIL_CHARS = 254


class MailError(Exception):
    """The transcript could not be sent."""


EMAIL_IN_TEXT = re.compile(r"[^@\s<>,;\"()]+@[^@\s<>,;\"()]+")


def valid_address(address: object) -> bool:
    """A plausible single address on a domain name (no display names, no lists, no
    header tricks, no IP-literal domains such as ``a@[127.0.0.1]`` or ``a@10.0.0.1``)."""
    if not (
        isinstance(address, str)
        and len(address) <= MAX_EMAIL_CHARS
        and EMAIL_PATTERN.match(address) is not None
    ):
        return False
    domain = address.rpartition("@")[2]
    if "[" in domain or "]" in domain:
        return False
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return True
    return False


def addresses_in(texts: Iterable[str]) -> set[str]:
    """The e-mail addresses written in ``texts`` (contact details), lower-cased."""
    found = set()
    for text in texts:
        for match in EMAIL_IN_TEXT.findall(text):
            candidate = match.strip(".:")
            if valid_address(candidate):
                found.add(candidate.lower())
    return found


def author_label(wording: Messages, author: str, agent_name: str | None = None) -> str:
    """Who wrote a message, as the customer reads it in an e-mail (``shop.yml`` wording;
    an agent by their name)."""
    if author == "agent":
        return agent_name or wording.say("author_team")
    if author in ("bot", "customer"):
        return wording.say(f"author_{author}")
    return wording.say("author_system")


def format_transcript(messages: Iterable[Message], wording: Messages) -> str:
    """The chat as plain text: one block per message with time (UTC) and author."""
    lines = []
    for message in messages:
        when = message.created_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
        label = author_label(wording, message.author, message.agent_name)
        lines.append(f"[{when} UTC] {label}:\n{message.text}\n")
    # Without messages the block is empty: the title and closing still say what it is.
    body = "\n".join(lines)
    title = wording.say("transcript_title")
    return f"{title}\n{'=' * len(title)}\n\n{body}\n{wording.say('transcript_closing')}\n"


def build_email(to: str, sender: str, subject: str, text: str) -> EmailMessage:
    """A text/plain e-mail (EmailMessage refuses newlines in headers)."""
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = sender
    email["To"] = to
    email["Message-ID"] = make_msgid(domain="larkspur.example")
    email.set_content(text, subtype="plain", charset="utf-8")
    return email


def _send_blocking(host: str, port: int, email: EmailMessage) -> None:
    with smtplib.SMTP(host, port, timeout=20) as smtp:
        smtp.send_message(email)


async def send_email(host: str, port: int, email: EmailMessage) -> None:
    """Send through SMTP in a thread (smtplib blocks); :class:`MailError` on failure."""
    try:
        await asyncio.to_thread(_send_blocking, host, port, email)
    except (OSError, smtplib.SMTPException) as problem:
        raise MailError(f"could not send the e-mail ({problem.__class__.__name__})") from None
