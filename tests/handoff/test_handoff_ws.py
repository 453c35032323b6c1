"""The desk websocket on a real server: auth, live push in order, catch-up."""

import asyncio
import json
from contextlib import asynccontextmanager

import pytest
import websockets
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse"
TIMEOUT = 20  # generous: the machine is shared; only a hang would hit it


async def recv(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def next_event(ws, name):
    """The next event frame called ``name`` (other frames are skipped)."""
    while True:
        frame = await recv(ws)
        if frame.get("type") == "event" and frame["event"] == name:
            return frame


@asynccontextmanager
async def closing(ws):
    try:
        yield ws
    finally:
        await ws.close()


async def hello(desk, agent, last_message_id=None):
    token = await desk.service.open_session(agent.id)
    ws = await websockets.connect(desk.ws_url)
    frame = {"type": "hello", "token": token}
    if last_message_id is not None:
        frame["last_message_id"] = last_message_id
    await ws.send(json.dumps(frame))
    ready = await recv(ws)
    assert ready["type"] == "ready", ready
    return ws, ready


async def setup_chat(service, agent=None):
    if agent is None:
        agent = await service.create_agent("alice", "Alice", PASSWORD)
    await service.set_availability(agent.id, True)
    conv = await service.create_conversation()
    await service.add_message(conv.id, "customer", "first")
    await service.enqueue(conv.id, "customer_request", {"summary": "help"})
    return agent, conv


@pytest.mark.parametrize(
    "frame, error",
    [
        ({"type": "hello"}, "log in first: this needs an agent session token"),
        ({"type": "hello", "token": "forged"}, "invalid session token"),
        ({"type": "ping"}, 'the first frame must be {"type": "hello", "token": "..."}'),
        ("not json", 'the first frame must be {"type": "hello", "token": "..."}'),
    ],
)
async def test_socket_refuses_without_a_valid_token(live_desk, frame, error):
    async with websockets.connect(live_desk.ws_url) as ws:
        await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        assert await recv(ws) == {"type": "error", "status": 401, "error": error}
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert ws.close_code == 4401


async def test_ready_frame_lists_the_queue(live_desk):
    agent, conv = await setup_chat(live_desk.service)
    ws, ready = await hello(live_desk, agent)
    async with closing(ws):
        assert ready["agent"]["login"] == "alice"
        assert [item["conversation_id"] for item in ready["queue"]] == [conv.id]
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv(ws) == {"type": "pong"}
        await ws.send(json.dumps({"type": "dance"}))
        assert (await recv(ws))["status"] == 422


async def test_new_chats_and_customer_messages_are_pushed_live_in_order(live_desk):
    service = live_desk.service
    agent = await service.create_agent("alice", "Alice", PASSWORD)
    await service.set_availability(agent.id, True)
    ws, _ = await hello(live_desk, agent)
    async with closing(ws):
        conv = await service.create_conversation()
        await service.add_message(conv.id, "customer", "before the handoff")  # state bot
        await service.enqueue(conv.id, "frustration", {})
        queued = await next_event(ws, "conversation.queued")
        assert queued["data"]["conversation_id"] == conv.id
        changed = await next_event(ws, "queue.changed")
        assert changed["data"]["queue"] == [conv.id]
        await service.claim(conv.id, agent.id)
        assigned = await next_event(ws, "conversation.assigned")
        assert assigned["data"]["agent_id"] == agent.id
        sent = [
            await service.add_message(conv.id, "customer", f"message {n} <b>") for n in range(5)
        ]
        pushed = [(await next_event(ws, "message.created"))["data"] for _ in range(5)]
        assert [m["id"] for m in pushed] == [m.id for m in sent]
        assert [m["text"] for m in pushed] == [f"message {n} <b>" for n in range(5)]
        await service.hand_back(conv.id, agent.id)
        returned = await next_event(ws, "conversation.returned_to_bot")
        assert returned["data"]["conversation_id"] == conv.id


async def test_other_agents_chats_are_not_pushed(live_desk):
    service = live_desk.service
    alice, conv = await setup_chat(service)
    bob = await service.create_agent("bob", "Bob", PASSWORD)
    await service.claim(conv.id, alice.id)
    ws, _ = await hello(live_desk, bob)
    async with closing(ws):
        await service.add_message(conv.id, "customer", "secret for alice")
        other = await service.create_conversation()
        await service.enqueue(other.id, "customer_request", {})
        marker = await service.add_message(other.id, "customer", "visible to all")
        frame = await next_event(ws, "message.created")
        # The first message pushed to Bob is the queued one: Alice's was skipped.
        assert frame["data"]["id"] == marker.id


async def test_reconnecting_desk_catches_up_on_missed_messages(live_desk):
    service = live_desk.service
    agent, conv = await setup_chat(service)
    await service.claim(conv.id, agent.id)
    ws, _ = await hello(live_desk, agent, last_message_id=0)
    async with closing(ws):
        seen = (await next_event(ws, "message.created"))["data"]
        assert seen["text"] == "first"
    # While the desk is away, the customer writes twice.
    missed = [await service.add_message(conv.id, "customer", t) for t in ("are you", "there?")]
    ws, _ = await hello(live_desk, agent, last_message_id=seen["id"])
    async with closing(ws):
        frames = [await next_event(ws, "message.created") for _ in range(2)]
        assert [f["data"]["id"] for f in frames] == [m.id for m in missed]
        assert all(f["catch_up"] for f in frames)
        live = await service.add_message(conv.id, "customer", "hello?")
        frame = await next_event(ws, "message.created")
        assert frame["data"]["id"] == live.id and "catch_up" not in frame


async def test_nothing_is_pushed_when_the_commit_fails(live_desk):
    service = live_desk.service
    agent, conv = await setup_chat(service)
    await service.claim(conv.id, agent.id)
    engine = service.engine
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TRIGGER fail_at_commit AFTER INSERT ON messages WHEN NEW.text = 'doomed' "
                "BEGIN INSERT INTO csat_answers (conversation_id, score, created_at) "
                "VALUES ('no-such-conversation', 3, CURRENT_TIMESTAMP); END"
            )
        )

    def defer_foreign_keys(conn):
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")

    ws, _ = await hello(live_desk, agent)
    async with closing(ws):
        event.listen(engine.sync_engine, "begin", defer_foreign_keys)
        try:
            with pytest.raises(IntegrityError):
                await service.add_message(conv.id, "customer", "doomed")
        finally:
            event.remove(engine.sync_engine, "begin", defer_foreign_keys)
        kept = await service.add_message(conv.id, "customer", "kept")
        frame = await next_event(ws, "message.created")
        # The first message the desk hears about is the committed one.
        assert (frame["data"]["id"], frame["data"]["text"]) == (kept.id, "kept")


async def test_disabled_agent_loses_the_live_feed(live_desk):
    service = live_desk.service
    agent, _ = await setup_chat(service)
    ws, _ = await hello(live_desk, agent)
    async with closing(ws):
        await service.disable_agent("alice")
        await ws.send(json.dumps({"type": "ping"}))
        frame = await recv(ws)
        while frame["type"] == "event":  # anything published before the check
            frame = await recv(ws)
        assert frame == {"type": "error", "status": 401, "error": "this agent account is disabled"}
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert ws.close_code == 4401


async def test_an_unknown_frame_gets_an_error_and_the_socket_stays_open(live_desk):
    agent = await live_desk.service.create_agent("alice", "Alice", PASSWORD)
    ws, _ = await hello(live_desk, agent)
    async with closing(ws):
        await ws.send(json.dumps({"type": "reply", "text": "hi"}))
        assert await recv(ws) == {
            "type": "error",
            "status": 422,
            "error": 'unknown frame: send {"type": "ping"}, "typing" or "seen"',
        }
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv(ws))["type"] == "pong"
