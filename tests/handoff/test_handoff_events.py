"""The event bus, and the promise that events follow the commit."""

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from handoff.events import Event, InProcessEventBus
from handoff.service import HandoffService

pytestmark = pytest.mark.asyncio


async def test_subscribers_get_matching_events_in_order():
    bus = InProcessEventBus()
    everything = bus.subscribe()
    one_chat = bus.subscribe(conversation_id="c1")
    names_only = bus.subscribe(names=["queue.changed"])
    await bus.publish(
        [
            Event("message.created", {"n": 1}, "c1"),
            Event("message.created", {"n": 2}, "c2"),
            Event("queue.changed", {"queue": []}),
            Event("message.created", {"n": 3}, "c1"),
        ]
    )
    assert [(await everything.get()).data.get("n") for _ in range(4)] == [1, 2, None, 3]
    assert [(await one_chat.get()).data["n"] for _ in range(2)] == [1, 3]
    assert one_chat.queue.empty()
    assert (await names_only.get()).name == "queue.changed" and names_only.queue.empty()


async def test_unsubscribe_and_listen_stop_delivery():
    bus = InProcessEventBus()
    sub = bus.subscribe()
    bus.unsubscribe(sub)
    bus.unsubscribe(sub)  # twice is harmless
    async with bus.listen(conversation_id="c1") as listening:
        assert bus.subscriber_count == 1
        await bus.publish([Event("message.created", {}, "c1")])
        assert (await asyncio.wait_for(listening.get(), 5)).conversation_id == "c1"
    assert bus.subscriber_count == 0
    await bus.publish([Event("message.created", {}, "c1")])
    assert sub.queue.empty()


async def test_service_publishes_named_events_after_commit(sqlite_service: HandoffService):
    service = sqlite_service
    sub = service.bus.subscribe()
    agent = await service.create_agent("alice", "Alice", "correct horse")
    await service.set_availability(agent.id, True)
    conv = await service.create_conversation()
    message = await service.add_message(conv.id, "customer", "hi")
    await service.enqueue(conv.id, "customer_request", {"summary": "s"})
    await service.claim(conv.id, agent.id)
    await service.agent_reply(conv.id, agent.id, "hello")
    await service.hand_back(conv.id, agent.id)
    await service.close(conv.id)
    names = []
    while not sub.queue.empty():
        names.append(sub.queue.get_nowait())
    assert [e.name for e in names] == [
        "agent.status_changed",
        "message.created",
        "conversation.queued",
        "queue.changed",
        "conversation.assigned",
        "queue.changed",
        "message.created",
        "conversation.returned_to_bot",
        "conversation.closed",
    ]
    created = names[1]
    assert created.conversation_id == conv.id
    assert created.data["id"] == message.id and created.data["text"] == "hi"
    assert created.data["conversation_state"] == "bot"
    assert names[3].data["queue"] == [conv.id]


async def test_nothing_is_published_when_the_commit_fails(sqlite_service: HandoffService):
    service = sqlite_service
    conv = await service.create_conversation()
    sub = service.bus.subscribe()
    # A genuine failure at COMMIT: a trigger writes a dangling reference that SQLite
    # only checks at commit time (deferred foreign keys).
    async with service.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TRIGGER fail_at_commit AFTER INSERT ON messages WHEN NEW.text = 'lost?' "
                "BEGIN INSERT INTO csat_answers (conversation_id, score, created_at) "
                "VALUES ('no-such-conversation', 3, CURRENT_TIMESTAMP); END"
            )
        )

    def defer_foreign_keys(conn):
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")

    event.listen(service.engine.sync_engine, "begin", defer_foreign_keys)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        await service.add_message(conv.id, "customer", "lost?")
    assert sub.queue.empty()
    assert await service.messages_since(conv.id, 0) == []
    # The database is usable afterwards and later messages are published.
    kept = await service.add_message(conv.id, "customer", "kept")
    assert (await asyncio.wait_for(sub.get(), 5)).data["id"] == kept.id
    assert [m.text for m in await service.messages_since(conv.id, 0)] == ["kept"]


async def test_ticket_events_carry_the_ticket(sqlite_service: HandoffService):
    service = sqlite_service
    sub = service.bus.subscribe(names=["ticket.created", "ticket.updated"])
    conv = await service.create_conversation()
    result = await service.enqueue(conv.id, "low_confidence", {})  # nobody online
    created = await asyncio.wait_for(sub.get(), 5)
    assert created.data["ticket"]["id"] == result.ticket_id
    assert created.data["ticket"]["reason"] == "low_confidence"
    await service.leave_contact(conv.id, "ann@example.com")
    updated = await asyncio.wait_for(sub.get(), 5)
    assert (updated.name, updated.data["ticket"]["contact"]) == (
        "ticket.updated",
        "ann@example.com",
    )
