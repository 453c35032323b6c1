"""Saved replies, private notes and labels through the agent API: who may do what."""

import pytest
import pytest_asyncio

from handoff.service.replies import fill

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse"


@pytest_asyncio.fixture
async def desk(app_factory):
    app = app_factory()
    client = app.asgi_client
    await client.get("/desk")  # runs the start-up listeners
    service = app.ctx.handoff
    admin = await service.create_agent("root", "Root Admin", PASSWORD, role="admin")
    return app, client, service, admin


async def sign_in(client, service, login, name=None):
    agent = await service.create_agent(login, name or login.title(), PASSWORD)
    _, response = await client.post("/api/agent/login", json={"login": login, "password": PASSWORD})
    assert response.status == 200, response.json
    return agent, {"Authorization": f"Bearer {response.json['token']}"}


async def assigned_to(service, agent, text="My parcel is late"):
    conv = await service.create_conversation()
    await service.add_message(conv.id, "customer", text)
    await service.set_availability(agent.id, True)
    assert (await service.enqueue(conv.id, "customer_request", {})).outcome == "queued"
    await service.claim(conv.id, agent.id)
    return conv


async def test_saved_reply_placeholders_are_filled_for_the_agent_and_shop(desk):
    app, client, service, admin = desk
    await service.replies.create(
        "late",
        "Late parcel",
        "Hi {customer_name}, this is {agent_name} from {shop_name}: I'll chase it. {{ok}}",
        by=admin,
    )
    alice, headers = await sign_in(client, service, "alice", "Alice Moreno")
    conv = await assigned_to(service, alice)
    _, raw = await client.get("/api/agent/saved-replies", headers=headers)
    assert raw.json["saved_replies"][0]["text"].startswith(
        "Hi {customer_name}, this is {agent_name}"
    )
    _, filled = await client.get(
        f"/api/agent/conversations/{conv.id}/saved-replies", headers=headers
    )
    shop = service.wording.shop_name
    # An anonymous customer has no name: it stays for the agent to fill in.
    assert filled.json["saved_replies"][0]["text"] == (
        f"Hi {{customer_name}}, this is Alice Moreno from {shop}: I'll chase it. {{ok}}"
    )
    assert fill("Dear {customer_name}", {"customer_name": "Kim"}) == "Dear Kim"
    # Once the shop has signed who the customer is, the name is filled in.
    await service.identify(conv.id, "shop-7", "Ana Pereira", "ana@example.org")
    _, named = await client.get(
        f"/api/agent/conversations/{conv.id}/saved-replies", headers=headers
    )
    assert named.json["saved_replies"][0]["text"] == (
        f"Hi Ana Pereira, this is Alice Moreno from {shop}: I'll chase it. {{ok}}"
    )
    # An identified customer without a name (the shop sent only an id) keeps the placeholder.
    other = await assigned_to(service, alice, "Hello?")
    await service.identify(other.id, "shop-8", None, "x@example.org")
    _, nameless = await client.get(
        f"/api/agent/conversations/{other.id}/saved-replies", headers=headers
    )
    assert nameless.json["saved_replies"][0]["text"].startswith("Hi {customer_name}, ")


async def test_the_desk_names_the_customer_in_the_queue_its_chats_search_and_history(desk):
    app, client, service, admin = desk
    alice, headers = await sign_in(client, service, "alice", "Alice Moreno")
    mine = await assigned_to(service, alice, "My parcel is late")
    await service.update_agent(alice.id, max_chats=1, by=admin)  # the rest stay queued
    await service.identify(mine.id, "shop-1", "Ana <b>Pereira</b>", "ana@example.org")
    waiting = await service.create_conversation()
    await service.add_message(waiting.id, "customer", "Is anyone there?")
    await service.identify(waiting.id, "shop-2", "Bruno Costa", None)
    assert (await service.enqueue(waiting.id, "customer_request", {})).outcome == "queued"
    anonymous = await service.create_conversation()
    await service.add_message(anonymous.id, "customer", "Hi, a question")
    assert (await service.enqueue(anonymous.id, "customer_request", {})).outcome == "queued"

    _, queue = await client.get("/api/agent/queue", headers=headers)
    assert [(q["conversation_id"], q["customer_label"]) for q in queue.json["queue"]] == [
        (waiting.id, "Bruno Costa"),
        (anonymous.id, f"Visitor {anonymous.id[:6]}"),
    ]
    _, chats = await client.get("/api/agent/conversations", headers=headers)
    # Markup in a name is text: the desk shows it with textContent.
    assert [c["customer_label"] for c in chats.json["conversations"]] == ["Ana <b>Pereira</b>"]
    _, results = await client.get("/api/agent/search?q=pereira", headers=headers)
    assert [
        (r["conversation_id"], r["customer_label"], r["customer_email"])
        for r in results.json["results"]
    ] == [(mine.id, "Ana <b>Pereira</b>", "ana@example.org")]
    _, by_mail = await client.get("/api/agent/search?contact=ana%40example", headers=headers)
    assert [r["conversation_id"] for r in by_mail.json["results"]] == [mine.id]
    _, thread = await client.get(f"/api/agent/history/{mine.id}", headers=headers)
    assert thread.json["customer_label"] == "Ana <b>Pereira</b>"


async def test_saved_replies_refuse_unknown_placeholders_and_taken_shortcuts(desk):
    app, client, service, admin = desk
    _, headers = await client.post("/api/agent/login", json={"login": "root", "password": PASSWORD})
    admin_headers = {"Authorization": f"Bearer {headers.json['token']}"}
    ok = {"shortcut": "thanks", "title": "Thanks", "text": "Thanks, {customer_name}!"}
    _, created = await client.post("/api/admin/saved-replies", json=ok, headers=admin_headers)
    assert created.status == 201
    cases = [
        ({**ok, "shortcut": "thanks"}, 409, "/thanks is taken"),
        ({**ok, "shortcut": "x", "text": "Hi {order_id}"}, 422, "placeholders are"),
        ({**ok, "shortcut": "y", "text": "Hi {customer_name"}, 422, "brace"),
        ({**ok, "shortcut": "Has Space"}, 422, "shortcut must"),
        ({**ok, "shortcut": "z", "text": "   "}, 422, "text must"),
        ({**ok, "shortcut": "w", "title": ""}, 422, "title must"),
    ]
    for body, status, words in cases:
        _, response = await client.post(
            "/api/admin/saved-replies", json=body, headers=admin_headers
        )
        assert response.status == status and words in response.json["error"], (body, response.json)
    assert [r.shortcut for r in await service.replies.list_replies()] == ["thanks"]
    reply_id = created.json["saved_reply"]["id"]
    _, changed = await client.put(
        f"/api/admin/saved-replies/{reply_id}",
        json={**ok, "text": "Thank you, {customer_name}."},
        headers=admin_headers,
    )
    assert changed.json["saved_reply"]["text"] == "Thank you, {customer_name}."
    entry = (await service.audit.list_entries())[0]
    assert (entry.actor, entry.action, entry.target) == ("root", "saved_reply.updated", "thanks")
    assert entry.detail == {
        "text": {"from": "Thanks, {customer_name}!", "to": "Thank you, {customer_name}."}
    }


async def test_notes_are_for_agents_who_see_the_chat_only(desk):
    app, client, service, admin = desk
    alice, alice_headers = await sign_in(client, service, "alice")
    bob, bob_headers = await sign_in(client, service, "bob")
    conv = await assigned_to(service, alice)
    path = f"/api/agent/conversations/{conv.id}/notes"
    _, written = await client.post(
        path, json={"text": "VIP: refund at once"}, headers=alice_headers
    )
    assert written.status == 201
    assert written.json["note"]["agent_name"] == "Alice"
    _, read = await client.get(path, headers=alice_headers)
    assert [n["text"] for n in read.json["notes"]] == ["VIP: refund at once"]
    # Bob does not own the chat: he can neither read nor write its notes.
    _, bob_read = await client.get(path, headers=bob_headers)
    _, bob_write = await client.post(path, json={"text": "sneaky"}, headers=bob_headers)
    assert bob_read.status == 403 and bob_write.status == 403
    _, empty = await client.post(path, json={"text": "  "}, headers=alice_headers)
    assert empty.status == 422 and "a note must be" in empty.json["error"]
    _, unknown = await client.post(
        "/api/agent/conversations/nope/notes", json={"text": "x"}, headers=alice_headers
    )
    assert unknown.status == 404
    assert [n.text for n in await service.notes.notes_of(conv.id)] == ["VIP: refund at once"]
    # A note is not a message: the transcript the customer can read does not hold it.
    assert "VIP" not in " ".join(m.text for m in await service.messages_since(conv.id))


async def test_agents_label_chats_they_see_and_only_admins_edit_the_list(desk):
    app, client, service, admin = desk
    refund = await service.labels.create("refund", by=admin)
    vip = await service.labels.create("  VIP   customer ", by=admin)
    assert vip.name == "VIP customer"
    alice, alice_headers = await sign_in(client, service, "alice")
    bob, bob_headers = await sign_in(client, service, "bob")
    conv = await assigned_to(service, alice)
    base = f"/api/agent/conversations/{conv.id}/labels"
    _, put = await client.put(f"{base}/{refund.id}", headers=alice_headers)
    _, again = await client.put(f"{base}/{refund.id}", headers=alice_headers)
    _, put_vip = await client.put(f"{base}/{vip.id}", headers=alice_headers)
    assert [label["name"] for label in put_vip.json["labels"]] == ["VIP customer", "refund"]
    assert again.status == 200
    _, missing = await client.put(f"{base}/999", headers=alice_headers)
    assert missing.status == 404
    _, bob_put = await client.put(f"{base}/{refund.id}", headers=bob_headers)
    assert bob_put.status == 403
    _, removed = await client.delete(f"{base}/{vip.id}", headers=alice_headers)
    assert [label["name"] for label in removed.json["labels"]] == ["refund"]
    _, many = await client.get(f"/api/agent/queue-details?ids={conv.id},other", headers=bob_headers)
    assert many.json["labels"] == {conv.id: ["refund"], "other": []}
    assert many.json["teams"] == {conv.id: None, "other": None}
    _, create = await client.post("/api/admin/labels", json={"name": "x"}, headers=alice_headers)
    assert create.status == 403
    # Deleting a label takes it off every chat, audited with how many it was on.
    await service.labels.delete(refund.id, by=admin)
    assert await service.labels.labels_of(conv.id) == []
    entry = (await service.audit.list_entries())[0]
    assert (entry.action, entry.target, entry.detail) == (
        "label.deleted",
        "refund",
        {"removed_from_conversations": 1},
    )
    with pytest.raises(Exception, match="exists"):
        await service.labels.create("VIP customer", by=admin)


async def test_transfer_over_http_only_by_the_owner(desk):
    app, client, service, admin = desk
    alice, alice_headers = await sign_in(client, service, "alice")
    bob, bob_headers = await sign_in(client, service, "bob")
    conv = await assigned_to(service, alice)
    path = f"/api/agent/conversations/{conv.id}/transfer"
    _, stranger = await client.post(path, json={"agent_id": alice.id}, headers=bob_headers)
    assert stranger.status == 403
    _, bad = await client.post(path, json={"agent_id": "2"}, headers=alice_headers)
    assert (bad.status, bad.json["error"]) == (422, "agent_id must be a whole number")
    _, both = await client.post(
        path, json={"agent_id": bob.id, "team_id": 1}, headers=alice_headers
    )
    assert both.status == 422
    _, ok = await client.post(
        path, json={"agent_id": bob.id, "note": "speaks Dutch"}, headers=alice_headers
    )
    assert ok.status == 200 and ok.json["conversation"]["agent_id"] == bob.id
    # Bob now sees the chat and the note; Alice no longer does.
    _, notes = await client.get(f"/api/agent/conversations/{conv.id}/notes", headers=bob_headers)
    assert notes.json["notes"][0]["text"] == "Transferred by Alice to Bob: speaks Dutch"
    _, gone = await client.get(f"/api/agent/conversations/{conv.id}", headers=alice_headers)
    assert gone.status == 403
    _, people = await client.get("/api/agent/colleagues", headers=alice_headers)
    assert {"id", "name", "online", "presence", "load", "max_chats"} == set(
        people.json["agents"][0]
    )


async def test_the_last_agent_wraps_up_an_ended_chat_with_notes_and_labels(desk):
    app, client, service, admin = desk
    alice, alice_headers = await sign_in(client, service, "alice")
    bob, bob_headers = await sign_in(client, service, "bob")
    vip = await service.labels.create("vip", by=admin)
    conv = await assigned_to(service, alice)
    await service.close(conv.id, alice.id)
    label = f"/api/agent/conversations/{conv.id}/labels/{vip.id}"
    note = f"/api/agent/conversations/{conv.id}/notes"
    _, labelled = await client.put(label, headers=alice_headers)
    _, noted = await client.post(note, json={"text": "Solved by a refund"}, headers=alice_headers)
    assert labelled.status == 200 and noted.status == 201
    # Bob never had it: he reads it in the history, but writes nothing on it.
    _, bob_label = await client.put(label, headers=bob_headers)
    _, bob_note = await client.post(note, json={"text": "x"}, headers=bob_headers)
    assert bob_label.status == 403 and bob_note.status == 403
    _, history = await client.get(f"/api/agent/history/{conv.id}", headers=bob_headers)
    assert [n["text"] for n in history.json["notes"]] == ["Solved by a refund"]
    assert [label["name"] for label in history.json["labels"]] == ["vip"]
