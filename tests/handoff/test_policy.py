"""Who may see and change a chat (handoff/policy.py): the rule as code and as SQL agree."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, insert, select

from handoff.models import conversations, metadata
from handoff.policy import may_close, owns, sees_message, visible_to

ALICE, BOB = 1, 2
# (id, state, owner): every state, and assigned chats of both agents.
CHATS = [
    ("bot", "bot", None),
    ("waiting", "queued", None),
    ("alices", "assigned", ALICE),
    ("bobs", "assigned", BOB),
    ("ended", "closed", None),
]


def test_only_the_owner_owns_and_only_an_assigned_chat():
    assert owns(ALICE, "assigned", ALICE)
    assert not owns(ALICE, "assigned", BOB)
    assert not owns(ALICE, "queued", None)
    assert not owns(None, "assigned", None)


def test_agents_close_waiting_chats_and_their_own_only():
    assert may_close(ALICE, "queued", None) and may_close(ALICE, "assigned", ALICE)
    assert not may_close(ALICE, "assigned", BOB)
    assert not may_close(ALICE, "bot", None)


@pytest.mark.parametrize("agent", [ALICE, BOB, 99])
def test_the_sql_form_selects_exactly_what_the_code_form_allows(agent):
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    now = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
    with engine.begin() as conn:
        # The owners' agent rows are not needed: SQLite leaves foreign keys unchecked here.
        for cid, state, owner in CHATS:
            conn.execute(
                insert(conversations).values(
                    id=cid, state=state, agent_id=owner, created_at=now, updated_at=now
                )
            )
        found = {
            row.id for row in conn.execute(select(conversations.c.id).where(visible_to(agent)))
        }
    expected = {cid for cid, state, owner in CHATS if sees_message(agent, state, owner)}
    assert found == expected
    assert "waiting" in found and "bot" not in found and "ended" not in found
