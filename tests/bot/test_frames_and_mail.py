"""bot/frames.py (what the widget is sent) and bot/mailer.py (the transcript e-mail)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from actions.content import PROJECT_ROOT
from bot.continuation import continuation_text
from bot.frames import event_frame, message_view
from bot.mailer import build_email, format_transcript, valid_address
from handoff.messages import load_messages
from handoff.service import Message

AT = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.timezone.utc)


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
        "agent_name": "Alice",
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


def test_a_bot_message_names_no_agent():
    view = message_view({"id": 1, "author": "bot", "text": "Hi", "created_at": "t"})
    assert (view["author"], view["agent_name"]) == ("bot", None)


def written(*pairs: tuple[str, str | None]) -> list[Message]:
    return [
        Message(i, "c1", author, f"text {i}", AT, agent_name=name)
        for i, (author, name) in enumerate(pairs, start=1)
    ]


def test_the_transcript_speaks_in_the_shop_files_words(tmp_path):
    shop = (PROJECT_ROOT / "shop.yml").read_text(encoding="utf-8")
    # A trainer's own wording (a copy of shop.yml with the author labels changed).
    for old, new in (
        ("author_bot: Assistant (bot)", "author_bot: Our helper robot"),
        ("author_customer: You", "author_customer: Me"),
        ("author_team: Support team", "author_team: Larkspur crew"),
        ("transcript_title: Your chat with {shop_name}", "transcript_title: Chat log"),
    ):
        assert old in shop
        shop = shop.replace(old, new)
    (tmp_path / "shop.yml").write_text(shop, encoding="utf-8")
    wording = load_messages(tmp_path / "shop.yml")
    chat = written(("bot", None), ("customer", None), ("agent", "Alice"), ("agent", None))
    chat.append(Message(5, "c1", "system", "Alice joined the chat.", AT))
    text = format_transcript(chat, wording)
    assert text.startswith("Chat log\n========\n\n[2026-11-30 09:15 UTC] Our helper robot:\n")
    for label in ("Me:", "Alice:", "Larkspur crew:", "Notice:"):
        assert f"UTC] {label}\n" in text
    assert f"Thank you for contacting {wording.shop_name}." in text


def test_the_continuation_mail_is_in_the_shop_files_words():
    wording = load_messages(PROJECT_ROOT / "shop.yml")
    replies = written(("agent", "Alice"), ("agent", None))
    earlier = [dataclasses.replace(m, id=m.id + 10) for m in written(("customer", None))]
    text = continuation_text(replies, earlier, wording)
    assert text.startswith(
        f"You left the chat with {wording.shop_name} before we could answer. "
        "Here is our reply:\n\nAlice:\ntext 1\n\nSupport team:\ntext 2\n\n"
    )
    assert "To continue, open the chat on our site again or reply to this e-mail." in text
    assert "The chat so far:\n\n> Your chat with " in text
    assert "> [2026-11-30 09:15 UTC] You:\n> text 1" in text
