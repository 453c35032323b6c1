"""Auto-assignment, the cap, reassignment and races, on SQLite and PostgreSQL."""

import asyncio

import pytest
from sqlalchemy import insert

from handoff import db
from handoff.auth import hash_password
from handoff.events import InProcessEventBus
from handoff.models import agents as agents_table
from handoff.service import Conflict, HandoffService

pytestmark = pytest.mark.asyncio


async def agent(service: HandoffService, login: str, cap=None, online=True):
    created = await service.create_agent(login, login.title(), "correct horse", cap)
    if online:
        await service.set_availability(created.id, True)
    return created


async def waiting(service: HandoffService, n: int = 1):
    chats = []
    for _ in range(n):
        conv = await service.create_conversation()
        await service.add_message(conv.id, "customer", "help please")
        chats.append(conv)
    return chats


async def test_auto_assign_oldest_first_least_busy_under_cap(make_service, database_url, clock):
    service = await make_service(database_url, auto_assign=True)
    alice = await agent(service, "alice", cap=2)
    bob = await agent(service, "bob", cap=1)
    chats = await waiting(service, 4)
    results = []
    for conv in chats:
        results.append(await service.enqueue(conv.id, "customer_request", {}))
        clock.advance(1)
    assert [r.outcome for r in results] == ["assigned", "assigned", "assigned", "queued"]
    owners = [(await service.get_conversation(c.id)).agent_id for c in chats[:3]]
    # Least busy first (ties: most recently seen, then id), never over the cap.
    assert sorted(owners) == sorted([alice.id, alice.id, bob.id])
    assert owners[0] != owners[1]
    assert (await service.get_agent(alice.id)).load == 2
    assert (await service.get_agent(bob.id)).load == 1
    assert results[3].position == 1

    # Capacity frees up: the oldest waiting chat goes to the agent who freed it.
    await service.hand_back(chats[2].id, owners[2])
    assert (await service.get_conversation(chats[3].id)).agent_id == owners[2]


async def test_agent_coming_online_gets_the_oldest_chats(make_service, database_url, clock):
    service = await make_service(database_url, auto_assign=True)
    early = await agent(service, "early", cap=1)
    chats = await waiting(service, 4)
    for conv in chats:
        await service.enqueue(conv.id, "frustration", {})
        clock.advance(5)
    await service.touch_agent(early.id)
    late = await agent(service, "late", cap=2)
    assert (await service.get_conversation(chats[0].id)).agent_id == early.id
    assert (await service.get_conversation(chats[1].id)).agent_id == late.id
    assert (await service.get_conversation(chats[2].id)).agent_id == late.id
    assert (await service.get_conversation(chats[3].id)).state == "queued"


async def test_away_agents_get_nothing(make_service, database_url):
    service = await make_service(database_url, auto_assign=True)
    online = await agent(service, "online", cap=1)
    away = await agent(service, "away", cap=3)
    await service.set_availability(away.id, False)
    chats = await waiting(service, 2)
    for conv in chats:
        await service.enqueue(conv.id, "frustration", {})
    assert (await service.get_conversation(chats[0].id)).agent_id == online.id
    assert (await service.get_conversation(chats[1].id)).state == "queued"
    assert (await service.get_agent(away.id)).load == 0


async def test_reassign_when_agent_does_not_answer(service: HandoffService, clock):
    slow = await agent(service, "slow")
    quick = await agent(service, "quick")
    answered, ignored = await waiting(service, 2)
    for conv in (answered, ignored):
        await service.enqueue(conv.id, "customer_request", {})
        await service.claim(conv.id, slow.id)
    await service.agent_reply(answered.id, slow.id, "On it!")
    clock.advance(service.settings.reassign_after_seconds - 1)
    assert await service.reassign_unanswered() == []
    clock.advance(2)
    await service.touch_agent(quick.id)
    await service.touch_agent(slow.id)
    assert await service.reassign_unanswered() == [(ignored.id, quick.id)]
    assert (await service.get_conversation(ignored.id)).agent_id == quick.id
    assert (await service.get_conversation(answered.id)).agent_id == slow.id
    # The clock restarts for the new owner.
    assert await service.reassign_unanswered() == []


async def test_reassign_keeps_chat_when_nobody_else_can_take_it(service: HandoffService, clock):
    only = await agent(service, "only")
    (conv,) = await waiting(service)
    await service.enqueue(conv.id, "customer_request", {})
    await service.claim(conv.id, only.id)
    clock.advance(service.settings.reassign_after_seconds + 1)
    await service.touch_agent(only.id)
    assert await service.reassign_unanswered() == []
    assert (await service.get_conversation(conv.id)).agent_id == only.id


async def test_fifty_concurrent_claims_give_one_owner(make_service, database_url):
    service = await make_service(database_url)
    # Insert the 50 agents directly: 50 scrypt hashes would only slow the test down.
    stored_hash = hash_password("not used")
    rows = [
        dict(
            login=f"a{n:02d}",
            name=f"Agent {n}",
            password_hash=stored_hash,
            max_chats=3,
            online=False,
            disabled=False,
            created_at=service.now(),
        )
        for n in range(50)
    ]
    async with service.engine.begin() as conn:
        await conn.execute(insert(agents_table), rows)
    agents = [await service.get_agent_by_login(f"a{n:02d}") for n in range(50)]
    (conv,) = await waiting(service)
    await agent(service, "watcher")  # someone online so the chat is queued
    await service.enqueue(conv.id, "customer_request", {})
    outcomes = await asyncio.gather(
        *(service.claim(conv.id, a.id) for a in agents), return_exceptions=True
    )
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1
    assert all(isinstance(o, Conflict) and "already taken" in str(o) for o in losers)
    owner = (await service.get_conversation(conv.id)).agent_id
    assert owner == winners[0].agent_id
    loads = [(await service.get_agent(a.id)).load for a in agents]
    assert sorted(loads) == [0] * 49 + [1]


async def test_concurrent_claims_by_one_agent_never_exceed_the_cap(make_service, database_url):
    service = await make_service(database_url)
    me = await agent(service, "me", cap=3)
    chats = await waiting(service, 10)
    for conv in chats:
        await service.enqueue(conv.id, "customer_request", {})
    outcomes = await asyncio.gather(
        *(service.claim(c.id, me.id) for c in chats), return_exceptions=True
    )
    assert sum(not isinstance(o, Exception) for o in outcomes) == 3
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, Exception))
    assert (await service.get_agent(me.id)).load == 3


async def test_two_workers_auto_assigning_at_once_respect_caps(make_service, database_url, clock):
    # Two services on two engines behave like two web workers sharing one database.
    first = await make_service(database_url, auto_assign=False)
    engine = db.create_engine(first.settings.database_url)
    try:
        second = HandoffService(engine, InProcessEventBus(), first.settings, first.hours, clock)
        caps = {"ann": 2, "bea": 1, "cy": 3}
        ids = {login: (await agent(first, login, cap)).id for login, cap in caps.items()}
        chats = await waiting(first, 12)
        for conv in chats:
            await first.enqueue(conv.id, "customer_request", {})
            clock.advance(1)
        await asyncio.gather(first.auto_assign(), second.auto_assign(), first.auto_assign())
        for login, agent_id in ids.items():
            assert (await first.get_agent(agent_id)).load == caps[login]
        states = [(await first.get_conversation(c.id)).state for c in chats]
        # The six oldest were assigned, the rest wait in order.
        assert states == ["assigned"] * 6 + ["queued"] * 6
    finally:
        await engine.dispose()
