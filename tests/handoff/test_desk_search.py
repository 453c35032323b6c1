"""Search of past conversations on SQLite (FTS5) and PostgreSQL (tsvector), one interface."""

import datetime as dt

import pytest
import pytest_asyncio

from handoff.service import InvalidInput
from handoff.service.search import SearchQuery

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse"


async def chat(service, clock, *texts, reason=None, contact=None, close=True):
    conv = await service.create_conversation()
    for text in texts:
        await service.add_message(conv.id, "customer", text)
    if reason:
        await service.enqueue(conv.id, reason, {})
    if contact:
        await service.leave_contact(conv.id, contact)
    if close:
        await service.close(conv.id)
    clock.advance(3600)
    return conv.id


async def found(service, **query):
    return [hit.conversation_id for hit in await service.search.search(SearchQuery(**query))]


async def test_words_labels_reasons_contacts_and_dates_on_both_databases(service, clock):
    admin = await service.create_agent("root", "Root", PASSWORD, role="admin")
    helper = await service.create_agent("helper", "Helper", PASSWORD)
    await service.set_availability(helper.id, True)
    start = clock.now
    parcel = await chat(service, clock, "My parcel never arrived", "Tracking number QX-1182")
    refund = await chat(
        service, clock, "Où est mon remboursement ?", "The refund is late", reason="frustration"
    )
    login = await chat(service, clock, "I cannot log in", contact="Kim Lee <kim@example.org>")
    vip = await service.labels.create("vip", by=admin)
    await service.labels.add_to(refund, vip.id, admin)

    assert await found(service, words="parcel") == [parcel]
    assert await found(service, words="PARCEL arrived") == [parcel]  # every word, any case
    assert await found(service, words="parcel refund") == []
    assert await found(service, words="remboursement") == [refund]
    assert await found(service, words="qx 1182") == [parcel]
    assert await found(service, words="arriv") == [parcel]  # the last word is a prefix
    # Search syntax in the box is just words (no FTS5/tsquery operators, no errors).
    assert await found(service, words='parcel" OR refund*') == []
    assert await found(service, words="(parcel!!! & | arrived*)") == [parcel]
    assert await found(service, contact="KIM@example") == [login]
    assert await found(service, contact="Lee") == [login]
    assert await found(service, label="vip") == [refund]
    assert await found(service, reason="frustration") == [refund]
    # Without words: newest first; a date range narrows it.
    assert await found(service) == [login, refund, parcel]
    one_hour = start + dt.timedelta(minutes=30)
    assert await found(service, since=one_hour) == [login, refund]
    assert await found(service, until=one_hour) == [parcel]
    [hit] = await service.search.search(SearchQuery(words="tracking"))
    assert hit.snippet == "Tracking number QX-1182" and hit.state == "closed"
    [hit] = await service.search.search(SearchQuery(label="vip"))
    assert (hit.reason, hit.labels) == ("frustration", ["vip"])


async def test_identified_customers_are_found_by_name_and_email_on_both_databases(service, clock):
    ana = await chat(service, clock, "Where is my parcel?", close=False)
    await service.identify(ana, "shop-41", "Ana Pereira", "ana.p@example.org")
    # Anonymous, but writes a word of Ana's name: found by its message, labelled a visitor.
    visitor = await chat(service, clock, "Ana at the shop said to write here")
    other = await chat(service, clock, "Refund please")
    await service.identify(other, "shop-42", "Bruno Costa", "bruno@example.net")
    kim = await chat(service, clock, "I cannot log in", contact="Kim Lee <kim@example.org>")

    assert await found(service, words="pereira") == [ana]
    assert await found(service, words="PEREIRA ana") == [ana]  # every word, any case
    assert await found(service, words="ana") == [visitor, ana]  # name or message
    assert await found(service, words="ana.p@example.org") == [ana]
    assert await found(service, words="example.net") == [other]
    assert await found(service, words="pereira refund") == []
    # The contact box: what a customer left in the chat, or who the shop said they are.
    assert await found(service, contact="ANA.P@") == [ana]
    assert await found(service, contact="bruno costa") == [other]
    assert await found(service, contact="example.org") == [kim, ana]
    assert await found(service, contact="nobody@") == []
    hits = {hit.conversation_id: hit for hit in await service.search.search(SearchQuery())}
    assert (hits[ana].customer_label, hits[ana].customer_email) == (
        "Ana Pereira",
        "ana.p@example.org",
    )
    assert hits[visitor].customer_label == f"Visitor {visitor[:6]}"
    assert hits[visitor].customer_email is None
    assert hits[kim].contact == "Kim Lee <kim@example.org>"


async def test_search_finds_messages_added_after_and_the_team(service, clock):
    admin = await service.create_agent("root", "Root", PASSWORD, role="admin")
    helper = await service.create_agent("helper", "Helper", PASSWORD)
    await service.set_availability(helper.id, True)
    returns = await service.teams.create("Returns", by=admin)
    await service.teams.set_members(returns.id, [helper.id], by=admin)
    conv = await chat(service, clock, "hello", reason="customer_request", close=False)
    await service.claim(conv, helper.id)
    await service.teams.transfer(conv, helper, to_team_id=returns.id)
    await service.add_message(conv, "customer", "the zipper broke on day two")
    assert await found(service, words="zipper") == [conv]
    assert await found(service, team="Returns") == [conv]
    assert await found(service, team="Payments") == []


@pytest.mark.parametrize(
    "query, words",
    [
        (SearchQuery(reason="angry"), "reason must be"),
        (SearchQuery(limit=0), "limit must be"),
        (SearchQuery(words="x" * 201), "at most 200"),
        (
            SearchQuery(
                since=dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc),
                until=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
            ),
            "ends before it starts",
        ),
    ],
)
async def test_bad_search_input_is_a_clear_error(sqlite_service, query, words):
    with pytest.raises(InvalidInput, match=words):
        await sqlite_service.search.search(query)


@pytest_asyncio.fixture
async def desk(app_factory):
    app = app_factory()
    client = app.asgi_client
    await client.get("/desk")
    return app, client


async def test_search_results_open_read_only_with_notes_and_labels(desk):
    app, client = desk
    service = app.ctx.handoff
    alice = await service.create_agent("alice", "Alice", PASSWORD)
    await service.create_agent("bob", "Bob", PASSWORD)
    await service.set_availability(alice.id, True)
    conv = await service.create_conversation()
    await service.add_message(conv.id, "customer", "Wrong size of the blue jacket")
    await service.enqueue(conv.id, "customer_request", {"summary": "Size exchange."})
    await service.claim(conv.id, alice.id)
    await service.notes.add_note(conv.id, alice, "Sent a new label")
    await service.close(conv.id, alice.id)
    _, session = await client.post("/api/agent/login", json={"login": "bob", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {session.json['token']}"}
    _, results = await client.get("/api/agent/search?q=jacket", headers=headers)
    assert [r["conversation_id"] for r in results.json["results"]] == [conv.id]
    _, thread = await client.get(f"/api/agent/history/{conv.id}", headers=headers)
    assert thread.json["read_only"] is True
    assert [m["text"] for m in thread.json["messages"]][0] == "Wrong size of the blue jacket"
    assert [n["text"] for n in thread.json["notes"]] == ["Sent a new label"]
    # Read-only: Bob cannot write in it.
    _, reply = await client.post(
        f"/api/agent/conversations/{conv.id}/messages", json={"text": "hi"}, headers=headers
    )
    assert reply.status in (403, 409)
    _, bad = await client.get("/api/agent/search?since=yesterday", headers=headers)
    assert (bad.status, bad.json["error"]) == (422, "since must be a date like 2026-11-30")
    _, anonymous = await client.get("/api/agent/search?q=jacket")
    assert anonymous.status == 401
    _, missing = await client.get("/api/agent/history/nope", headers=headers)
    assert missing.status == 404
