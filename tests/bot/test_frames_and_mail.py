"""bot/frames.py (what the widget is sent) and bot/mailer.py (the transcript e-mail)."""

from __future__ import annotations

import pytest

from bot.frames import event_frame, message_view
from bot.mailer import build_email, valid_address


def test_message_view_hides_desk_fields():
    view = message_view(
        {
            "id": 3,
            "author": "agent",
            "agent_id": 7,
            "agent_name": "Alice",
            "text": "<b>hi</b>",
            "buttons": None,
            "created_at": "t",
            "conversation_state": "assigned",
        }
    )
    assert view == {
        "id": 3,
        "author": "agent",
        "author_label": "Alice",
        "text": "<b>hi</b>",
        "buttons": [],
        "created_at": "t",
    }


def test_event_frames():
    joined = event_frame("conversation.assigned", {"agent_id": 1, "agent_name": "Al"})
    assert joined == {"type": "agent_joined", "agent_name": "Al", "state": "assigned"}
    assert event_frame("conversation.assigned", {"agent_id": None}) is None
    assert event_frame("conversation.returned_to_bot", {"by": "agent"})["type"] == "bot_back"
    assert event_frame("conversation.closed", {})["type"] == "closed"
    offline = event_frame("ticket.created", {"ticket": {"id": 1, "contact": None}})
    assert offline == {"type": "offline", "ticket_id": 1}
    assert event_frame("ticket.created", {"ticket": {"id": 1, "contact": "a@b.c"}}) is None


@pytest.mark.parametrize(
    "address,ok",
    [
        ("sam@example.com", True),
        ("a@b", False),
        ("a@b.c\r\nBcc: x@y.z", False),
        ("x" * 250 + "@a.bc", False),
        ("Sam <sam@example.com>", False),
        (None, False),
    ],
)
def test_transcript_addresses_are_single_plain_addresses(address, ok):
    assert valid_address(address) is ok


def test_transcript_mail_is_plain_text():
    email = build_email("sam@example.com", "Shop <help@shop.example>", "Shop", "<b>hi</b>")
    assert email.get_content_type() == "text/plain"
    assert "<b>hi</b>" in email.get_content()
