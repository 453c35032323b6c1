// The admin page: agents, teams, saved replies, labels, support hours, audit log. Every text goes in with
// textContent. The page holds no data of its own: a non-admin gets 403 from the API
// and is told so.
(() => {
  "use strict";
  const TOKEN_KEY = "handoff.desk.token"; // the desk's session (same tab)
  const $ = (id) => document.getElementById(id);
  const token = sessionStorage.getItem(TOKEN_KEY);

  async function api(method, path, body) {
    const headers = { "Authorization": "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.error || "request failed (" + response.status + ")");
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function button(text, onClick, className) {
    const node = el("button", text, "btn " + (className || ""));
    node.type = "button";
    node.addEventListener("click", () => onClick().then(refresh).catch(showError));
    return node;
  }

  function showError(error) { $("admin-error").textContent = error.message; }
  function refuse(text) { $("admin-view").hidden = true; $("admin-refused").hidden = false; $("admin-refused").textContent = text; }

  function renderAgents(agents) {
    const rows = agents.map((agent) => {
      const tr = el("tr");
      tr.dataset.login = agent.login;
      tr.append(el("td", agent.login), el("td", agent.name), el("td", agent.role));
      const cap = el("input");
      Object.assign(cap, { type: "number", min: 1, max: 50, value: agent.max_chats });
      cap.setAttribute("aria-label", "Cap of " + agent.login);
      cap.addEventListener("change", () =>
        api("PATCH", "/api/admin/agents/" + agent.id, { max_chats: Number(cap.value) }).then(refresh).catch(showError));
      const capCell = el("td"); capCell.append(cap);
      tr.append(capCell, el("td", agent.disabled ? "deactivated" : agent.presence));
      const actions = el("td");
      if (!agent.disabled) {
        const other = agent.role === "admin" ? "agent" : "admin";
        actions.append(
          button("Make " + other, () => api("PATCH", "/api/admin/agents/" + agent.id, { role: other })),
          button("Reset password", async () => {
            const password = window.prompt("New password for " + agent.login + " (8+ characters)");
            if (password) await api("POST", "/api/admin/agents/" + agent.id + "/password", { password });
          }),
          button("Deactivate", async () => {
            if (window.confirm("Deactivate " + agent.login + "? Their open chats go back to the queue."))
              await api("POST", "/api/admin/agents/" + agent.id + "/deactivate");
          }, "danger"),
        );
      }
      tr.append(actions);
      return tr;
    });
    $("agent-rows").replaceChildren(...rows);
  }

  function editReply(reply) {
    $("reply-id").value = reply.id;
    $("reply-shortcut").value = reply.shortcut;
    $("reply-title").value = reply.title;
    $("reply-text").value = reply.text;
    $("reply-form-title").textContent = "Edit /" + reply.shortcut;
    $("reply-cancel").hidden = false;
  }

  function resetReplyForm() {
    $("reply-form").reset();
    $("reply-id").value = "";
    $("reply-form-title").textContent = "New saved reply";
    $("reply-cancel").hidden = true;
  }

  function renderReplies(replies) {
    $("reply-rows").replaceChildren(...replies.map((reply) => {
      const li = el("li", undefined, "admin-reply");
      li.append(el("strong", "/" + reply.shortcut), el("span", " " + reply.title, "muted"), el("p", reply.text, "reply-text"));
      const edit = el("button", "Edit", "btn"); edit.type = "button";
      edit.addEventListener("click", () => editReply(reply));
      li.append(edit, button("Delete", () => api("DELETE", "/api/admin/saved-replies/" + reply.id), "danger"));
      return li;
    }));
  }

  function renderLabels(labels) {
    $("label-rows").replaceChildren(...labels.map((label) => {
      const li = el("li", label.name, "chip");
      li.append(button("×", () => api("DELETE", "/api/admin/labels/" + label.id), "ghost"));
      return li;
    }));
  }

  /** Each team with a checkbox per active agent: ticking one saves the member list. */
  function renderTeams(teams, agents) {
    const active = agents.filter((a) => !a.disabled);
    $("team-rows").replaceChildren(...teams.map((team) => {
      const li = el("li", undefined, "admin-team");
      li.dataset.team = team.name;
      li.append(el("strong", team.name + " "));
      const boxes = active.map((agent) => {
        const label = el("label", undefined, "inline");
        const box = el("input");
        Object.assign(box, { type: "checkbox", checked: team.member_ids.includes(agent.id), value: String(agent.id) });
        label.append(box, document.createTextNode(agent.name));
        return label;
      });
      const save = () => api("PUT", "/api/admin/teams/" + team.id + "/members", {
        agent_ids: boxes.map((l) => l.firstChild).filter((b) => b.checked).map((b) => Number(b.value)),
      }).then(refresh).catch(showError);
      for (const label of boxes) label.firstChild.addEventListener("change", save);
      li.append(...boxes, button("Delete team", async () => {
        if (window.confirm("Delete team " + team.name + "? Its waiting chats go to everyone.")) await api("DELETE", "/api/admin/teams/" + team.id);
      }, "danger"));
      return li;
    }));
  }

  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

  function renderHours(found) {
    const hours = found.support_hours;
    $("hours-source").textContent = found.source === "desk" ? "(set in the desk)" : "(from shop.yml)";
    $("hours-timezone").value = hours.timezone || "UTC";
    $("hours-holidays").value = (hours.holidays || []).join(", ");
    $("hours-summary").textContent = found.summary || "";
    $("hours-days").replaceChildren(...DAYS.map((day) => {
      const label = el("label", day + " ");
      const input = el("input");
      Object.assign(input, { id: "hours-" + day, value: (hours.weekly || {})[day] || "closed", placeholder: "09:00-17:00 or closed" });
      label.append(input);
      return label;
    }));
    $("hours-reset").hidden = found.source !== "desk";
  }

  async function submitHours(event) {
    event.preventDefault();
    const weekly = {};
    for (const day of DAYS) weekly[day] = $("hours-" + day).value.trim() || "closed";
    await api("PUT", "/api/admin/hours", { support_hours: {
      timezone: $("hours-timezone").value.trim(), weekly,
      holidays: $("hours-holidays").value.split(",").map((d) => d.trim()).filter(Boolean),
    } });
  }

  function renderAudit(entries) {
    $("audit-rows").replaceChildren(...entries.map((entry) => {
      const tr = el("tr");
      tr.append(el("td", new Date(entry.created_at).toLocaleString()), el("td", entry.actor),
        el("td", entry.action), el("td", entry.target), el("td", JSON.stringify(entry.detail), "muted"));
      return tr;
    }));
  }

  async function refresh() {
    const [agents, replies, labels, audit, teams, hours] = await Promise.all([
      api("GET", "/api/admin/agents"), api("GET", "/api/agent/saved-replies"),
      api("GET", "/api/agent/labels"), api("GET", "/api/admin/audit?limit=100"),
      api("GET", "/api/agent/teams"), api("GET", "/api/admin/hours"),
    ]);
    renderAgents(agents.agents); renderReplies(replies.saved_replies);
    renderTeams(teams.teams, agents.agents);
    renderHours(hours);
    renderLabels(labels.labels); renderAudit(audit.entries);
    $("admin-error").textContent = "";
  }

  async function submitAgent(event) {
    event.preventDefault();
    await api("POST", "/api/admin/agents", {
      login: $("agent-login").value, name: $("agent-name").value, password: $("agent-password").value,
      max_chats: Number($("agent-cap").value), role: $("agent-admin").checked ? "admin" : "agent",
    });
    $("agent-form").reset();
  }

  async function submitReply(event) {
    event.preventDefault();
    const body = { shortcut: $("reply-shortcut").value, title: $("reply-title").value, text: $("reply-text").value };
    const id = $("reply-id").value;
    await (id ? api("PUT", "/api/admin/saved-replies/" + id, body) : api("POST", "/api/admin/saved-replies", body));
    resetReplyForm();
  }

  async function submitTeam(event) {
    event.preventDefault();
    await api("POST", "/api/admin/teams", { name: $("team-name").value });
    $("team-form").reset();
  }

  async function submitLabel(event) {
    event.preventDefault();
    await api("POST", "/api/admin/labels", { name: $("label-name").value });
    $("label-form").reset();
  }

  const submit = (fn) => (event) => fn(event).then(refresh).catch(showError);

  document.addEventListener("DOMContentLoaded", () => {
    if (!token) { refuse("Sign in at the desk first."); return; }
    $("agent-form").addEventListener("submit", submit(submitAgent));
    $("reply-form").addEventListener("submit", submit(submitReply));
    $("label-form").addEventListener("submit", submit(submitLabel));
    $("team-form").addEventListener("submit", submit(submitTeam));
    $("hours-form").addEventListener("submit", submit(submitHours));
    $("hours-reset").addEventListener("click", () => api("DELETE", "/api/admin/hours").then(refresh).catch(showError));
    $("reply-cancel").addEventListener("click", resetReplyForm);
    $("admin-view").hidden = false;
    refresh().catch((error) => {
      if (error.status === 403) refuse("Only admins may open this page.");
      else if (error.status === 401) refuse("Your session has ended: sign in at the desk again.");
      else showError(error);
    });
  });
})();
