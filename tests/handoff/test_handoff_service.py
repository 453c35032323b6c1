"""The conversation state machine, messages and tickets, on SQLite and PostgreSQL."""

import pytest

from handoff.service import Conflict, Forbidden, HandoffService, InvalidInput, NotFound

pytestmark = pytest.mark.asyncio

CONTEXT = {
    "reason": "frustration",
    "summary": "Customer wants a refund for a late parcel and is upset.",
    "intents": [{"name": "refund", "confidence": 0.91}],
    "frustration": {"score": 0.8, "cues": ["shouting"]},
}


async def online_agent(service: HandoffService, login: str = "alice", cap=None):
    agent = await service.create_agent(login, login.title(), "correct horse", cap)
    return await service.set_availability(agent.id, True)


async def queued_chat(service: HandoffService, text: str = "I want my money back"):
    conv = await service.create_conversation()
    await service.add_message(conv.id, "customer", text)
    result = await service.enqueue(conv.id, "frustration", CONTEXT)
    assert result.outcome == "queued"
    return conv


async def test_full_lifecycle(service: HandoffService):
    agent = await online_agent(service)
    conv = await service.create_conversation()
    assert conv.state == "bot" and len(conv.id) >= 32
    await service.add_message(conv.id, "customer", "where is my parcel?")
    await service.add_message(
        conv.id, "bot", "Here is how to track it", buttons=[{"title": "Track"}]
    )

    result = await service.enqueue(conv.id, "customer_request", CONTEXT)
    assert (result.outcome, result.position) == ("queued", 1)
    assert result.estimated_wait_seconds is not None
    assert (await service.get_conversation(conv.id)).state == "queued"

    claimed = await service.claim(conv.id, agent.id)
    assert (claimed.state, claimed.agent_id) == ("assigned", agent.id)
    reply = await service.agent_reply(conv.id, agent.id, "Hi, I'm Alice, let me check.")
    assert reply.agent_name == "Alice"

    back = await service.hand_back(conv.id, agent.id)
    assert (back.state, back.agent_id) == ("bot", None)
    await service.add_message(conv.id, "bot", "Welcome back, I'm the assistant again.")

    again = await service.enqueue(conv.id, "low_confidence", {})
    assert again.outcome == "queued"
    closed = await service.close(conv.id, agent_id=None)
    assert closed.state == "closed" and closed.closed_at is not None

    transcript = await service.messages_since(conv.id, 0)
    assert [m.author for m in transcript] == ["customer", "bot", "agent", "bot"]
    assert transcript[1].buttons == [{"title": "Track"}]
    detail = await service.conversation_detail(conv.id)
    assert detail.handoff.reason == "low_confidence"


async def test_bot_is_silent_while_a_person_handles_the_chat(service: HandoffService):
    agent = await online_agent(service)
    conv = await queued_chat(service)
    with pytest.raises(Conflict, match="bot must not answer"):
        await service.add_message(conv.id, "bot", "I can help!")
    await service.claim(conv.id, agent.id)
    with pytest.raises(Conflict, match="bot must not answer"):
        await service.add_message(conv.id, "bot", "I can help!")
    # The customer can still write at any time before the close.
    await service.add_message(conv.id, "customer", "hello?")


async def test_invalid_transitions_are_refused(service: HandoffService):
    alice = await online_agent(service, "alice")
    bob = await online_agent(service, "bob")
    conv = await service.create_conversation()
    with pytest.raises(Conflict, match="not waiting"):
        await service.claim(conv.id, alice.id)
    with pytest.raises(Forbidden):
        await service.hand_back(conv.id, alice.id)
    await service.enqueue(conv.id, "customer_request", {})
    await service.claim(conv.id, alice.id)
    with pytest.raises(Conflict, match="already taken by Alice"):
        await service.claim(conv.id, bob.id)
    with pytest.raises(Conflict, match="only a waiting conversation"):
        await service.cancel(conv.id)
    with pytest.raises(Forbidden):
        await service.agent_reply(conv.id, bob.id, "not mine")
    with pytest.raises(Forbidden):
        await service.hand_back(conv.id, bob.id)
    with pytest.raises(Forbidden):
        await service.close(conv.id, bob.id)
    await service.close(conv.id, alice.id)
    with pytest.raises(Conflict, match="closed"):
        await service.add_message(conv.id, "customer", "are you there?")
    with pytest.raises(Conflict, match="closed"):
        await service.enqueue(conv.id, "customer_request", {})


async def test_cancel_returns_to_bot(service: HandoffService):
    await online_agent(service)
    conv = await queued_chat(service)
    assert (await service.cancel(conv.id)).state == "bot"
    assert await service.list_queue() == []
    assert (await service.cancel(conv.id)).state == "bot"  # idempotent


async def test_enqueue_twice_reports_the_same_place(service: HandoffService):
    await online_agent(service)
    first = await queued_chat(service)
    second = await queued_chat(service)
    again = await service.enqueue(second.id, "customer_request", {})
    assert (again.outcome, again.position) == ("queued", 2)
    queue = await service.list_queue()
    assert [item.conversation_id for item in queue] == [first.id, second.id]
    assert queue[0].first_message == "I want my money back"
    assert queue[0].summary == CONTEXT["summary"]
    assert queue[0].reason == "frustration"


async def test_claim_respects_the_cap(service: HandoffService):
    agent = await online_agent(service, cap=2)
    chats = [await queued_chat(service) for _ in range(3)]
    await service.claim(chats[0].id, agent.id)
    await service.claim(chats[1].id, agent.id)
    with pytest.raises(Conflict, match="most you can take is 2"):
        await service.claim(chats[2].id, agent.id)
    assert (await service.get_agent(agent.id)).load == 2


async def test_bad_input_is_refused_and_nothing_is_stored(service: HandoffService):
    conv = await service.create_conversation()
    for text in ["", "   \n ", "x" * 2001, None, 42]:
        with pytest.raises(InvalidInput):
            await service.add_message(conv.id, "customer", text)
    with pytest.raises(InvalidInput):
        await service.add_message(conv.id, "wizard", "hi")
    with pytest.raises(InvalidInput, match="reason"):
        await service.enqueue(conv.id, "bored", {})
    with pytest.raises(InvalidInput, match="JSON"):
        await service.enqueue(conv.id, "customer_request", {"x": object()})
    with pytest.raises(NotFound):
        await service.add_message("no-such-conversation", "customer", "hi")
    with pytest.raises(NotFound):
        await service.enqueue("x" * 500, "customer_request", {})
    assert await service.messages_since(conv.id, 0) == []
    assert (await service.get_conversation(conv.id)).state == "bot"
    await service.add_message(conv.id, "customer", "x" * 2000)  # the limit itself is fine


async def test_html_is_stored_verbatim(service: HandoffService):
    conv = await service.create_conversation()
    text = '<script>alert("x")</script> & <b>bold</b>'
    stored = await service.add_message(conv.id, "customer", text)
    assert (await service.messages_since(conv.id, 0))[0].text == text == stored.text


async def test_messages_since_returns_what_was_missed_in_order(service: HandoffService):
    conv = await service.create_conversation()
    other = await service.create_conversation()
    ids = []
    for n in range(6):
        ids.append((await service.add_message(conv.id, "customer", f"m{n}")).id)
        await service.add_message(other.id, "customer", "elsewhere")
    assert ids == sorted(ids)
    missed = await service.messages_since(conv.id, ids[2])
    assert [m.text for m in missed] == ["m3", "m4", "m5"]
    assert await service.messages_since(conv.id, ids[-1]) == []


async def test_offline_outside_hours_opens_a_ticket(make_service, database_url, clock):
    from handoff.hours import load_hours
    from handoff.settings import PROJECT_ROOT

    service = await make_service(database_url, hours=load_hours(PROJECT_ROOT / "shop.yml"))
    await online_agent(service)
    clock.now = clock.now.replace(day=29, hour=12)  # Sunday 29 November: closed
    conv = await service.create_conversation()
    result = await service.enqueue(conv.id, "customer_request", CONTEXT)
    assert (result.outcome, result.offline_reason) == ("offline", "closed")
    assert result.next_opening.isoformat() == "2026-11-30T09:00:00+00:00"
    assert "Monday 30 November at 09:00" in result.message
    assert (await service.get_conversation(conv.id)).state == "bot"
    ticket = await service.leave_contact(conv.id, "ann@example.com", "Refund for order 123")
    assert ticket.id == result.ticket_id and ticket.reason == "customer_request"
    tickets = await service.list_tickets()
    assert [(t.contact, t.message) for t in tickets] == [
        ("ann@example.com", "Refund for order 123")
    ]


async def test_offline_when_nobody_is_online(service: HandoffService):
    agent = await service.create_agent("alice", "Alice", "correct horse")  # never online
    conv = await service.create_conversation()
    result = await service.enqueue(conv.id, "frustration", {})
    assert (result.outcome, result.offline_reason, result.next_opening) == (
        "offline",
        "no_agents",
        None,
    )
    assert "No one from our team is available" in result.message
    done = await service.mark_ticket_done(result.ticket_id, agent.id)
    assert done.state == "done" and await service.list_tickets() == []


async def test_away_and_silent_agents_do_not_count_as_online(service: HandoffService, clock):
    agent = await online_agent(service)
    await service.set_availability(agent.id, False)
    conv = await service.create_conversation()
    assert (await service.enqueue(conv.id, "frustration", {})).outcome == "offline"
    await service.set_availability(agent.id, True)
    clock.advance(service.settings.presence_timeout_seconds + 1)  # desk stopped pinging
    conv = await service.create_conversation()
    assert (await service.enqueue(conv.id, "frustration", {})).outcome == "offline"


async def test_leave_contact_without_offline_handoff_opens_ticket(service: HandoffService):
    conv = await service.create_conversation()
    with pytest.raises(InvalidInput, match="contact"):
        await service.leave_contact(conv.id, "  ")
    ticket = await service.leave_contact(conv.id, "0207 946 0321")
    assert ticket.state == "open" and ticket.message is None


async def test_csat_is_recorded_once(service: HandoffService):
    conv = await service.create_conversation()
    for bad in [0, 6, "5", True, 2.5]:
        with pytest.raises(InvalidInput):
            await service.record_csat(conv.id, bad)
    await service.record_csat(conv.id, 5, "Quick and kind")
    with pytest.raises(Conflict, match="already been rated"):
        await service.record_csat(conv.id, 1)
    with pytest.raises(NotFound):
        await service.record_csat("missing", 3)


async def test_wait_estimate_uses_capacity_and_handling_time(service: HandoffService, clock):
    agent = await online_agent(service, cap=1)
    first = await queued_chat(service)
    second = await queued_chat(service)
    assert (await service.queue_status(first.id)).estimated_wait_seconds == 60
    # One slot, so the second waits a whole (default 5 min) handling round.
    assert (await service.queue_status(second.id)).estimated_wait_seconds == 60 + 300
    await service.claim(first.id, agent.id)
    clock.advance(120)
    await service.touch_agent(agent.id)  # the desk heartbeat keeps the agent online
    await service.close(first.id, agent.id)
    third = await queued_chat(service)
    await service.claim(second.id, agent.id)
    # Recent handling took 2 minutes; the agent is busy, so one round of 120 s.
    assert (await service.queue_status(third.id)).estimated_wait_seconds == 60 + 120
    assert await service.queue_status(second.id) is None


async def test_agents_authenticate_and_can_be_disabled(service: HandoffService):
    alice = await online_agent(service)
    assert (await service.authenticate("ALICE", "correct horse")).id == alice.id
    from handoff.service import AuthFailed

    for login, password in [("alice", "wrong"), ("nobody", "correct horse")]:
        with pytest.raises(AuthFailed, match="wrong login or password"):
            await service.authenticate(login, password)
    with pytest.raises(Conflict, match="already exists"):
        await service.create_agent("alice", "Other", "long enough")
    with pytest.raises(InvalidInput, match="at least 8"):
        await service.create_agent("bob", "Bob", "short")
    with pytest.raises(InvalidInput, match="login"):
        await service.create_agent("Bad Login!", "Bob", "long enough")

    conv = await queued_chat(service)
    await service.claim(conv.id, alice.id)
    await service.disable_agent("alice")
    with pytest.raises(AuthFailed):
        await service.authenticate("alice", "correct horse")
    # Their chat goes back to the queue instead of being stranded.
    assert (await service.get_conversation(conv.id)).state == "queued"
    await service.reset_password("alice", "battery staple")
    stored = await service.list_agents()
    assert [(a.login, a.disabled) for a in stored] == [("alice", True)]


async def test_a_bot_turn_is_stored_in_order_all_or_none(service: HandoffService):
    conv = await service.create_conversation()
    sub = service.bus.subscribe(conv.id)
    stored = await service.add_messages(
        conv.id,
        "bot",
        [
            ("Returns are free within 30 days.", None),
            ("Did that answer your question?", [{"title": "Yes"}, {"title": "No"}]),
        ],
    )
    assert [m.text for m in stored] == [
        "Returns are free within 30 days.",
        "Did that answer your question?",
    ]
    assert stored[0].id < stored[1].id and stored[1].buttons == [{"title": "Yes"}, {"title": "No"}]
    assert [sub.queue.get_nowait().data["id"] for _ in stored] == [m.id for m in stored]
    # One bad message refuses the whole turn before anything is stored.
    with pytest.raises(InvalidInput):
        await service.add_messages(conv.id, "bot", [("fine", None), ("   ", None)])
    assert [m.text for m in await service.messages_since(conv.id, 0)] == [m.text for m in stored]


async def test_unanswered_customer_messages_are_the_last_word_in_chats_with_the_bot(
    service: HandoffService, clock
):
    async def chat(*authors: str):
        conv = await service.create_conversation()
        for index, author in enumerate(authors):
            await service.add_message(conv.id, author, f"{author} {index}")
        return conv.id

    old = await chat("bot", "customer")
    clock.advance(2 * 86_400)
    left = await chat("bot", "customer")
    await chat("bot", "customer", "bot")  # answered
    await chat("bot", "customer", "system")  # told the assistant is unavailable
    queued = await chat("bot", "customer")
    agent = await online_agent(service)
    result = await service.enqueue(queued, "customer_request")
    assert result.outcome == "queued"  # a person will see it
    # Two in a row with the bot: the first one's worker stopped, the customer went on
    # through another web worker; neither got an answer.
    twice = await chat("bot", "customer", "customer")
    # Back with the bot after a person: what the customer wrote to the person is no
    # question the bot missed.
    person = await chat("bot", "customer")
    await service.enqueue(person, "customer_request")
    await service.claim(person, agent.id)
    await service.add_message(person, "customer", "for the person")
    await service.add_message(person, "customer", "for the person again")
    await service.hand_back(person, agent.id)
    await service.add_message(person, "bot", "The assistant is back.")
    found = await service.unanswered_customer_messages()
    assert [(m.conversation_id, m.text) for m in found] == [
        (left, "customer 1"),
        (twice, "customer 1"),
        (twice, "customer 2"),
    ]
    assert old not in [m.conversation_id for m in found]  # older than a day
    assert len(await service.unanswered_customer_messages(max_age_seconds=3 * 86_400)) == 4
    clock.advance(30)
    assert await service.unanswered_customer_messages(min_age_seconds=60) == []  # too new
