"""handoff/service/customers.py on both databases: linking chats to a signed customer,
earlier chats with reason and CSAT, the recent open chat, transcripts kept apart."""

from __future__ import annotations

import pytest

from handoff.service import NotFound

pytestmark = pytest.mark.asyncio


async def test_returning_customer_on_each_database(service):
    agent = await service.create_agent("alice", "Alice Moreno", "correct horse battery")
    await service.set_availability(agent.id, True)
    old = await service.create_conversation()
    await service.identify(old.id, "c-1", "Ana", "ana@example.com")
    await service.add_customer_message(old.id, "my refund never came")
    await service.enqueue(old.id, "frustration")
    await service.claim(old.id, agent.id)
    await service.close(old.id, agent.id)
    await service.record_csat(old.id, 2)
    quiet = await service.create_conversation()  # the bot alone answered this one
    await service.identify(quiet.id, "c-1", "Ana P.", "ana@example.com")
    new = await service.create_conversation()
    customer = await service.identify(new.id, "c-1", "Ana Pereira", "ana@example.com")
    assert customer.name == "Ana Pereira"  # the name the shop gave last

    card = await service.customer_card(new.id)
    assert card.label == "Ana Pereira"
    assert {(c.id, c.reason, c.csat) for c in card.earlier} == {
        (old.id, "frustration", 2),
        (quiet.id, None, None),
    }
    assert card.earlier[0].created_at >= card.earlier[1].created_at  # newest first
    transcript = await service.earlier_messages(new.id, old.id)
    assert "my refund never came" in [m.text for m in transcript]
    recent = await service.recent_conversation("c-1", 3600)
    assert recent is not None and recent.id in (quiet.id, new.id)
    assert await service.recent_conversation("c-unknown", 3600) is None

    # An identified chat is never relinked to someone else.
    await service.identify(new.id, "c-2", "Mallory", None)
    assert (await service.customer_card(new.id)).label == "Ana Pereira"
    # Another customer's (or an anonymous) chat never opens this one's history.
    anon = await service.create_conversation()
    with pytest.raises(NotFound):
        await service.earlier_messages(anon.id, old.id)
    other = await service.create_conversation()
    await service.identify(other.id, "c-2", "Mallory", None)
    with pytest.raises(NotFound):
        await service.earlier_messages(other.id, old.id)
    assert (await service.customer_card(anon.id)).label == f"Visitor {anon.id[:6]}"
