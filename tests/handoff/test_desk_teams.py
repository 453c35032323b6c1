"""Teams: routing by topic and reason, assignment within the team with fallback to
everyone, transfer to an agent or a team (of two transfers, one wins)."""

import asyncio

import pytest

from handoff.routing import Routing, RoutingError, RoutingRule, load_routing
from handoff.service import Conflict, Forbidden, InvalidInput

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse"
REFUND = {"faq_answers": ["refund_timing"], "summary": "Refund late."}
SHIPPING = {"faq_answers": ["delivery_time"], "summary": "Where is it?"}


def routing():
    return Routing(
        rules=(
            RoutingRule("Returns", frozenset({"returns_refund"})),
            RoutingRule("Escalations", reasons=frozenset({"frustration"})),
        ),
        faq_topics={"refund_timing": "returns_refund", "delivery_time": "shipping_delivery"},
        intent_topics={"ask_refund": "returns_refund"},
    )


async def setup(service, *logins, cap=3):
    service.teams.routing = routing()
    admin = await service.create_agent("root", "Root", PASSWORD, role="admin")
    made = []
    for login in logins:
        agent = await service.create_agent(login, login.title(), PASSWORD, cap)
        await service.set_availability(agent.id, True)
        made.append(agent)
    return admin, made


async def waiting(service, context, reason="customer_request"):
    conv = await service.create_conversation()
    await service.add_message(conv.id, "customer", "hello")
    assert (await service.enqueue(conv.id, reason, context)).outcome == "queued"
    return conv


async def test_routing_rules_pick_the_first_matching_team():
    rules = routing()
    assert rules.team_for("customer_request", REFUND) == "Returns"
    assert rules.team_for("frustration", SHIPPING) == "Escalations"
    assert rules.team_for("customer_request", SHIPPING) is None
    # Intents count when no FAQ answer tells the topic.
    assert rules.team_for("low_confidence", {"intents": [{"name": "ask_refund"}]}) == "Returns"


async def test_routing_file_errors_name_the_file_and_rule(tmp_path):
    shop = tmp_path / "shop.yml"
    topics = tmp_path / "topics.yml"
    topics.write_text("faq:\n  refund_timing: {topic: returns_refund}\nintents: {}\n")
    shop.write_text("routing:\n  - team: Returns\n    topics: [returns_refund]\n")
    assert load_routing(shop, topics).team_for("frustration", REFUND) == "Returns"
    shop.write_text("routing:\n  - team: Returns\n  - team: X\n    topics: [refunds]\n")
    with pytest.raises(RoutingError, match=r"shop.yml: routing rule 2: unknown topics refunds"):
        load_routing(shop, topics)
    shop.write_text("routing:\n  - topics: [returns_refund]\n")
    with pytest.raises(RoutingError, match="rule 1: each rule needs a team name"):
        load_routing(shop, topics)
    shop.write_text("routing:\n  - team: A\n    reasons: [angry]\n")
    with pytest.raises(RoutingError, match="unknown reasons angry"):
        load_routing(shop, topics)


async def test_a_routed_chat_goes_to_the_team_even_when_others_are_less_busy(service):
    admin, (alice, bob) = await setup(service, "alice", "bob")
    returns = await service.teams.create("Returns", by=admin)
    await service.teams.set_members(returns.id, [alice.id], by=admin)
    first = await waiting(service, SHIPPING)
    await service.claim(first.id, alice.id)  # alice is busier than bob
    refund = await waiting(service, REFUND)
    other = await waiting(service, SHIPPING)
    assigned = dict(await service.auto_assign())
    assert assigned == {refund.id: alice.id, other.id: bob.id}
    details = await service.teams.teams_of([refund.id, other.id])
    assert details == {refund.id: "Returns", other.id: None}


async def test_fallback_to_everyone_only_when_nobody_in_the_team_is_online(service, clock):
    admin, (alice, bob) = await setup(service, "alice", "bob", cap=1)
    returns = await service.teams.create("Returns", by=admin)
    await service.teams.set_members(returns.id, [alice.id], by=admin)
    # The team is online but full: its chat waits, a later chat for everyone goes.
    busy = await waiting(service, SHIPPING)
    await service.claim(busy.id, alice.id)
    refund = await waiting(service, REFUND)
    later = await waiting(service, SHIPPING)
    assert await service.auto_assign() == [(later.id, bob.id)]
    assert (await service.get_conversation(refund.id)).state == "queued"
    # Alice goes away; bob frees a slot: now the team has nobody online, so bob takes it.
    await service.set_availability(alice.id, False)
    await service.close(later.id, bob.id)
    assert await service.auto_assign() == [(refund.id, bob.id)]


async def test_a_team_named_in_the_rules_but_not_in_the_desk_routes_to_everyone(service):
    admin, (alice,) = await setup(service, "alice")
    refund = await waiting(service, REFUND)  # no team "Returns" exists
    assert await service.teams.teams_of([refund.id]) == {refund.id: None}
    assert await service.auto_assign() == [(refund.id, alice.id)]


async def test_transfer_to_an_agent_leaves_a_note_and_tells_everyone(service):
    admin, (alice, bob) = await setup(service, "alice", "bob")
    conv = await waiting(service, SHIPPING)
    await service.claim(conv.id, alice.id)
    sub = service.bus.subscribe()
    moved = await service.teams.transfer(conv.id, alice, to_agent_id=bob.id, note="wants a call")
    assert (moved.state, moved.agent_id) == ("assigned", bob.id)
    [note] = await service.notes.notes_of(conv.id)
    assert note.text == "Transferred by Alice to Bob: wants a call"
    events = []
    while not sub.queue.empty():
        events.append(sub.queue.get_nowait())
    assigned = [e for e in events if e.name == "conversation.assigned"]
    assert assigned[0].data["agent_name"] == "Bob" and assigned[0].data["how"] == "transfer"
    assert assigned[0].conversation_id == conv.id  # the customer side says "Bob joined"
    # Alice no longer owns it: a second transfer by her is refused.
    with pytest.raises(Forbidden):
        await service.teams.transfer(conv.id, alice, to_agent_id=admin.id)


async def test_two_transfers_of_one_chat_one_wins(service):
    admin, (alice, bob, carol) = await setup(service, "alice", "bob", "carol")
    conv = await waiting(service, SHIPPING)
    await service.claim(conv.id, alice.id)
    results = await asyncio.gather(
        service.teams.transfer(conv.id, alice, to_agent_id=bob.id),
        service.teams.transfer(conv.id, alice, to_agent_id=carol.id),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], Forbidden)
    owner = (await service.get_conversation(conv.id)).agent_id
    assert owner == won[0].agent_id and owner in (bob.id, carol.id)
    assert len(await service.notes.notes_of(conv.id)) == 1  # the loser left no note


async def test_transfer_to_a_team_requeues_for_its_members(service):
    admin, (alice, bob, carol) = await setup(service, "alice", "bob", "carol")
    returns = await service.teams.create("Returns", by=admin)
    await service.teams.set_members(returns.id, [carol.id], by=admin)
    conv = await waiting(service, SHIPPING)
    await service.claim(conv.id, alice.id)
    moved = await service.teams.transfer(conv.id, alice, to_team_id=returns.id, note="refund")
    assert (moved.state, moved.agent_id) == ("queued", None)
    assert await service.teams.teams_of([conv.id]) == {conv.id: "Returns"}
    assert await service.auto_assign() == [(conv.id, carol.id)]  # bob is less busy
    [note] = await service.notes.notes_of(conv.id)
    assert note.text == "Transferred by Alice to team Returns: refund"


async def test_transfer_refuses_bad_targets_and_changes_nothing(service):
    admin, (alice, bob) = await setup(service, "alice", "bob", cap=1)
    conv = await waiting(service, SHIPPING)
    await service.claim(conv.id, alice.id)
    full = await waiting(service, SHIPPING)
    await service.claim(full.id, bob.id)
    with pytest.raises(Conflict, match="Bob already has 1 chats"):
        await service.teams.transfer(conv.id, alice, to_agent_id=bob.id)
    with pytest.raises(InvalidInput):
        await service.teams.transfer(conv.id, alice, to_agent_id=bob.id, to_team_id=1)
    with pytest.raises(InvalidInput):
        await service.teams.transfer(conv.id, alice)
    with pytest.raises(Exception, match="no such team"):
        await service.teams.transfer(conv.id, alice, to_team_id=12345)
    with pytest.raises(Forbidden):  # bob does not own it
        await service.teams.transfer(conv.id, bob, to_agent_id=alice.id)
    assert (await service.get_conversation(conv.id)).agent_id == alice.id
    assert await service.notes.notes_of(conv.id) == []


async def test_make_validate_refuses_a_routing_rule_with_an_unknown_topic(tmp_path):
    """`python -m tools.content.check_data` (part of `make validate`) on a project copy."""
    from tests.helpers import check_data, project_copy

    shop = project_copy(tmp_path) / "shop.yml"
    shop.write_text(shop.read_text().replace("topics: [payment]", "topics: [payments]"))
    run = check_data(tmp_path)
    assert run.returncode == 1
    assert "routing rule 1: unknown topics payments" in run.stderr
