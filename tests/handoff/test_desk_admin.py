"""Roles and admin routes: agents get 403, admins manage agents, every change is audited."""

import datetime as dt

import pytest
import pytest_asyncio

pytestmark = pytest.mark.asyncio
PASSWORD = "correct horse"


@pytest_asyncio.fixture
async def desk(app_factory):
    app = app_factory()
    client = app.asgi_client
    await client.get("/desk")  # runs the start-up listeners
    return app, client


async def sign_in(client, service, login, role="agent"):
    agent = await service.create_agent(login, login.title(), PASSWORD, role=role)
    _, response = await client.post("/api/agent/login", json={"login": login, "password": PASSWORD})
    assert response.status == 200, response.json
    return agent, {"Authorization": f"Bearer {response.json['token']}"}


ADMIN_ROUTES = [
    ("get", "/api/admin/agents", None),
    ("post", "/api/admin/agents", {"login": "eve", "name": "Eve", "password": PASSWORD}),
    ("patch", "/api/admin/agents/1", {"max_chats": 9}),
    ("post", "/api/admin/agents/1/deactivate", None),
    ("post", "/api/admin/agents/1/password", {"password": "another password"}),
    ("get", "/api/admin/audit", None),
    ("post", "/api/admin/saved-replies", {"shortcut": "hi", "title": "Hi", "text": "Hello"}),
    ("put", "/api/admin/saved-replies/1", {"shortcut": "hi", "title": "Hi", "text": "Hello"}),
    ("delete", "/api/admin/saved-replies/1", None),
    ("post", "/api/admin/labels", {"name": "refund"}),
    ("delete", "/api/admin/labels/1", None),
    ("post", "/api/admin/teams", {"name": "Payments"}),
    ("put", "/api/admin/teams/1/members", {"agent_ids": [1]}),
    ("delete", "/api/admin/teams/1", None),
    ("get", "/api/admin/hours", None),
    ("put", "/api/admin/hours", {"support_hours": {"timezone": "UTC", "weekly": {}}}),
    ("delete", "/api/admin/hours", None),
]


@pytest.mark.parametrize("method, path, body", ADMIN_ROUTES)
async def test_agents_get_403_and_strangers_401_on_every_admin_route(desk, method, path, body):
    app, client = desk
    service = app.ctx.handoff
    admin = await service.create_agent("root", "Root", PASSWORD, role="admin")
    await service.replies.create("hi", "Hi", "Hello", by=admin)
    await service.labels.create("refund", by=admin)
    await service.teams.create("Returns", by=admin)
    _, headers = await sign_in(client, service, "bob")
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    _, anonymous = await call(path, **kwargs)
    assert anonymous.status == 401
    _, refused = await call(path, headers=headers, **kwargs)
    assert (refused.status, refused.json) == (403, {"error": "only an admin may do this"})
    # Nothing changed: the agent is still enabled and capped as before, the reply and
    # label are still there, and the audit log holds only the admin's two changes.
    agents = {a.login: a for a in await service.list_agents()}
    assert not agents["root"].disabled and agents["root"].max_chats == 3
    assert [r.shortcut for r in await service.replies.list_replies()] == ["hi"]
    assert [label.name for label in await service.labels.list_labels()] == ["refund"]
    assert [(t.name, t.member_ids) for t in await service.teams.list_teams()] == [("Returns", [])]
    actions = [e.action for e in await service.audit.list_entries()]
    assert "saved_reply.created" in actions and "agent.deactivated" not in actions
    assert "eve" not in agents


async def test_admin_page_is_served_and_its_data_refused_to_agents(desk):
    app, client = desk
    _, page = await client.get("/desk/admin")
    assert page.status == 200 and "admin.js" in page.text
    _, headers = await sign_in(client, app.ctx.handoff, "bob")
    _, me = await client.get("/api/agent/me", headers=headers)
    assert me.json["agent"]["role"] == "agent"
    _, data = await client.get("/api/admin/agents", headers=headers)
    assert data.status == 403


async def test_admin_adds_caps_resets_and_deactivates_an_agent_all_audited(desk):
    app, client = desk
    service = app.ctx.handoff
    admin, headers = await sign_in(client, service, "root", role="admin")
    new = {"login": "carol", "name": "Carol", "password": "first password", "max_chats": 2}
    _, added = await client.post("/api/admin/agents", json=new, headers=headers)
    assert added.status == 201, added.json
    carol = added.json["agent"]
    assert (carol["role"], carol["max_chats"]) == ("agent", 2)
    assert "password_hash" not in carol
    # Carol signs in, then the admin raises her cap and resets her password.
    _, session = await client.post(
        "/api/agent/login", json={"login": "carol", "password": "first password"}
    )
    carol_headers = {"Authorization": f"Bearer {session.json['token']}"}
    _, capped = await client.patch(
        f"/api/admin/agents/{carol['id']}", json={"max_chats": 5}, headers=headers
    )
    assert capped.json["agent"]["max_chats"] == 5
    _, reset = await client.post(
        f"/api/admin/agents/{carol['id']}/password",
        json={"password": "second password"},
        headers=headers,
    )
    assert reset.status == 200
    _, old_session = await client.get("/api/agent/me", headers=carol_headers)
    assert old_session.status == 401  # the reset ended her sessions
    _, old_password = await client.post(
        "/api/agent/login", json={"login": "carol", "password": "first password"}
    )
    assert old_password.status == 401
    _, gone = await client.post(f"/api/admin/agents/{carol['id']}/deactivate", headers=headers)
    assert gone.json["agent"]["disabled"] is True
    _, refused = await client.post(
        "/api/agent/login", json={"login": "carol", "password": "second password"}
    )
    assert refused.status == 401
    _, audit = await client.get("/api/admin/audit", headers=headers)
    entries = [(e["actor"], e["action"], e["target"]) for e in audit.json["entries"]]
    assert entries[:4] == [
        ("root", "agent.deactivated", "carol"),
        ("root", "agent.password_reset", "carol"),
        ("root", "agent.updated", "carol"),
        ("root", "agent.created", "carol"),
    ]
    newest = audit.json["entries"][0]
    assert newest["actor_id"] == admin.id and newest["created_at"]
    update = audit.json["entries"][2]
    assert update["detail"] == {"max_chats": {"from": 2, "to": 5}}
    # A password never reaches the log.
    assert "second password" not in str(audit.json) and "first password" not in str(audit.json)


async def test_bad_admin_input_is_a_clear_error_and_changes_nothing(desk):
    app, client = desk
    service = app.ctx.handoff
    _, headers = await sign_in(client, service, "root", role="admin")
    bob, _ = await sign_in(client, service, "bob")
    cases = [
        ("patch", f"/api/admin/agents/{bob.id}", {"max_chats": 0}, 422, "max chats must"),
        ("patch", f"/api/admin/agents/{bob.id}", {"max_chats": "7"}, 422, "whole number"),
        ("patch", f"/api/admin/agents/{bob.id}", {"role": "owner"}, 422, "role must be"),
        ("patch", f"/api/admin/agents/{bob.id}", {}, 422, "nothing to change"),
        ("patch", "/api/admin/agents/999", {"max_chats": 4}, 404, "no such agent"),
        (
            "post",
            "/api/admin/agents",
            {"login": "bob", "name": "B", "password": PASSWORD},
            409,
            "already exists",
        ),
        (
            "post",
            "/api/admin/agents",
            {"login": "x y", "name": "B", "password": PASSWORD},
            422,
            "login must",
        ),
        (
            "post",
            f"/api/admin/agents/{bob.id}/password",
            {"password": "short"},
            422,
            "password must",
        ),
    ]
    before = await service.audit.list_entries()
    for method, path, body, status, words in cases:
        _, response = await getattr(client, method)(path, json=body, headers=headers)
        assert response.status == status, (path, body, response.json)
        assert words in response.json["error"]
    assert (await service.get_agent(bob.id)).max_chats == 3
    assert (await service.get_agent(bob.id)).role == "agent"
    assert len(await service.audit.list_entries()) == len(before)


async def test_the_last_admin_cannot_demote_or_deactivate_themselves(desk):
    app, client = desk
    service = app.ctx.handoff
    root, headers = await sign_in(client, service, "root", role="admin")
    _, demote = await client.patch(
        f"/api/admin/agents/{root.id}", json={"role": "agent"}, headers=headers
    )
    assert demote.status == 409 and "last active admin" in demote.json["error"]
    _, disable = await client.post(f"/api/admin/agents/{root.id}/deactivate", headers=headers)
    assert disable.status == 409
    # With a second admin, the first may step down; they then lose the admin routes.
    bob, _ = await sign_in(client, service, "bob")
    _, promoted = await client.patch(
        f"/api/admin/agents/{bob.id}", json={"role": "admin"}, headers=headers
    )
    assert promoted.json["agent"]["role"] == "admin"
    _, stepped = await client.patch(
        f"/api/admin/agents/{root.id}", json={"role": "agent"}, headers=headers
    )
    assert stepped.status == 200
    _, now_refused = await client.get("/api/admin/agents", headers=headers)
    assert now_refused.status == 403


async def test_cli_makes_the_first_admin_and_is_audited_as_cli(sqlite_service):
    service = sqlite_service
    agent = await service.create_agent("alice", "Alice", PASSWORD)
    updated = await service.update_agent(agent.id, role="admin")
    assert updated.is_admin
    entry = (await service.audit.list_entries())[0]
    assert (entry.actor, entry.actor_id, entry.action, entry.target) == (
        "cli",
        None,
        "agent.updated",
        "alice",
    )
    assert entry.detail == {"role": {"from": "agent", "to": "admin"}}


async def test_admins_edit_the_support_hours_over_the_file_default(app_factory):
    from handoff.hours import load_hours
    from handoff.settings import PROJECT_ROOT

    # The real hours of shop.yml (not the tests' always-open), so the change shows.
    app = app_factory(hours=None)
    client = app.asgi_client
    await client.get("/desk")
    service = app.ctx.handoff
    _, headers = await sign_in(client, service, "root", role="admin")
    _, found = await client.get("/api/admin/hours", headers=headers)
    assert found.json["source"] == "file"
    assert found.json["support_hours"]["weekly"]["sun"] == "closed"
    assert found.json["support_hours"]["holidays"][0] == "2026-12-25"
    sunday_noon = dt.datetime(2026, 11, 29, 12, tzinfo=dt.timezone.utc)

    def open_on_sunday():
        # The in-process client may start the app again per request: read it each time.
        return app.ctx.handoff.queue.hours.is_open(sunday_noon)

    assert not open_on_sunday()
    file_hours = found.json["support_hours"]
    new = {**file_hours, "weekly": {**file_hours["weekly"], "sun": "10:00-16:00"}}
    _, saved = await client.put("/api/admin/hours", json={"support_hours": new}, headers=headers)
    assert saved.status == 200 and saved.json["source"] == "desk"
    assert open_on_sunday()  # in service at once
    _, bad = await client.put(
        "/api/admin/hours",
        json={"support_hours": {**new, "weekly": {"sun": "16:00-10:00"}}},
        headers=headers,
    )
    assert bad.status == 422 and "ends before it starts" in bad.json["error"]
    assert open_on_sunday()  # the bad version changed nothing
    entry = (await service.audit.list_entries())[0]
    assert (entry.actor, entry.action) == ("root", "support_hours.changed")
    assert entry.detail["to"]["weekly"]["sun"] == "10:00-16:00"
    # A restart keeps the desk's hours; a reset goes back to the file.
    again = app_factory(hours=None)
    await again.asgi_client.get("/desk")
    assert again.ctx.handoff.queue.hours.is_open(sunday_noon)
    _, reset = await client.delete("/api/admin/hours", headers=headers)
    assert reset.json["source"] == "file"
    assert not open_on_sunday()
    assert load_hours(PROJECT_ROOT / "shop.yml").summary == app.ctx.handoff.queue.hours.summary
