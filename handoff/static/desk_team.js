// Team tools of the desk: saved replies ("/" + shortcut in the reply box), private notes
// in the thread, labels on the chat, team and label chips and filters on the queue,
// transfer to an agent or a team, typing both ways and "seen", idle -> Away, search of past
// conversations opening read-only, the admin link. It follows the
// desk through the events desk.js announces and renders every text with textContent.
(() => {
  "use strict";
  const TOKEN_KEY = "handoff.desk.token";
  const $ = (id) => document.getElementById(id);
  const team = { agent: null, chatId: null, replies: null, picked: 0, labels: [], queueLabels: {}, queueTeams: {}, teams: [], messageTimes: new Map(),
    messageAuthors: new Map(), seenSent: new Map(), typingSentAt: 0, typingTimer: null,
    lastActivity: Date.now(), idleAwayMs: 300000, awayForIdle: false, reasonLabels: {} };

  async function api(method, path, body) {
    const headers = { "Authorization": "Bearer " + sessionStorage.getItem(TOKEN_KEY) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch("/api/agent" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || "request failed (" + response.status + ")");
    return data;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  const chatPath = () => "/conversations/" + encodeURIComponent(team.chatId);

  // ---- Saved replies ---------------------------------------------------------------
  /** Saved replies matching what follows "/" in the box: shortcut first, then title. */
  function matches(replies, query) {
    const q = query.toLowerCase();
    const byShortcut = replies.filter((r) => r.shortcut.startsWith(q));
    const byTitle = replies.filter((r) => !r.shortcut.startsWith(q) && r.title.toLowerCase().includes(q));
    return byShortcut.concat(byTitle).slice(0, 8);
  }

  function pickerQuery() {
    const found = /^\/(\S*)$/.exec($("reply-text").value);
    return found ? found[1] : null;
  }

  async function updatePicker() {
    const picker = $("reply-picker");
    if (pickerQuery() === null || !team.chatId) { picker.hidden = true; return; }
    if (team.replies === null) team.replies = (await api("GET", chatPath() + "/saved-replies")).saved_replies;
    // Read the box again after the fetch: the agent may have typed on (or sent) meanwhile.
    const query = pickerQuery();
    if (query === null) { picker.hidden = true; return; }
    const found = matches(team.replies, query);
    team.picked = Math.min(team.picked, Math.max(found.length - 1, 0));
    picker.replaceChildren(...found.map((reply, index) => {
      const li = el("li", "pick" + (index === team.picked ? " active" : ""));
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(index === team.picked));
      li.dataset.shortcut = reply.shortcut;
      li.append(el("strong", "", "/" + reply.shortcut), el("span", "muted", " " + reply.title), el("div", "pick-text", reply.text));
      li.addEventListener("mousedown", (event) => { event.preventDefault(); insert(reply); });
      return li;
    }));
    if (!found.length) picker.replaceChildren(el("li", "pick empty", "No saved reply starts with /" + query));
    picker.hidden = false;
  }

  /** Put the reply's text in the box for editing (never sends it). */
  function insert(reply) {
    const box = $("reply-text");
    box.value = reply.text;
    $("reply-picker").hidden = true;
    box.dispatchEvent(new Event("input", { bubbles: true })); // the counter updates
    box.focus();
    const gap = box.value.indexOf("{");
    if (gap >= 0) box.setSelectionRange(gap, box.value.indexOf("}", gap) + 1); // a value to fill
  }

  // Capture phase on the form: runs before desk.js's Enter-to-send on the textarea.
  function onPickerKey(event) {
    const picker = $("reply-picker");
    if (picker.hidden || event.target.id !== "reply-text") return;
    const options = Array.from(picker.querySelectorAll("[data-shortcut]"));
    if (event.key === "Escape") { picker.hidden = true; event.preventDefault(); return; }
    if (!options.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      team.picked = (team.picked + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      event.preventDefault();
      updatePicker();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      event.stopImmediatePropagation();
      const chosen = team.replies.find((r) => r.shortcut === options[team.picked].dataset.shortcut);
      if (chosen) insert(chosen);
    }
  }

  // ---- Private notes ---------------------------------------------------------------
  function noteNode(note) {
    const li = el("li", "msg note");
    li.dataset.noteId = note.id;
    li.dataset.at = note.created_at;
    li.append(el("span", "who", "Private note · " + note.agent_name), el("div", "bubble", note.text), el("span", "at", new Date(note.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    return li;
  }

  /** A note goes between the messages written before and after it (by time). */
  function showNote(note) {
    const list = $("transcript");
    if (list.querySelector('[data-note-id="' + Number(note.id) + '"]')) return;
    const timeOf = (child) => child.dataset.at || team.messageTimes.get(Number(child.dataset.id)) || "";
    const later = Array.from(list.children).find((child) => timeOf(child) > note.created_at);
    list.insertBefore(noteNode(note), later || null);
    if (!later) list.scrollTop = list.scrollHeight;
  }

  async function loadNotes() {
    const data = await api("GET", chatPath() + "/notes");
    for (const note of data.notes) showNote(note);
  }

  async function sendNote(event) {
    event.preventDefault();
    const box = $("note-text");
    if (!box.value.trim()) { $("note-error").textContent = "Write the note first."; return; }
    $("note-btn").disabled = true;
    try {
      const data = await api("POST", chatPath() + "/notes", { text: box.value });
      box.value = ""; // cleared only once stored
      $("note-error").textContent = "";
      showNote(data.note);
    } catch (error) {
      $("note-error").textContent = error.message;
    } finally {
      $("note-btn").disabled = false;
    }
  }

  // ---- Labels ------------------------------------------------------------------------
  function renderChatLabels(labels) {
    $("chat-label-chips").replaceChildren(...labels.map((label) => {
      const chip = el("span", "chip", label.name);
      const remove = el("button", "chip-x", "×");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove label " + label.name);
      remove.addEventListener("click", () => api("DELETE", chatPath() + "/labels/" + label.id).then((d) => renderChatLabels(d.labels)).catch(showError));
      chip.append(remove);
      return chip;
    }));
  }

  function fillSelect(select, first) {
    select.replaceChildren(Object.assign(el("option", "", first), { value: "" }), ...team.labels.map((label) => Object.assign(el("option", "", label.name), { value: String(label.id) })));
  }

  async function loadLabels() {
    team.labels = (await api("GET", "/labels")).labels;
    const filter = $("queue-label-filter");
    const keep = filter.value;
    fillSelect(filter, "All labels");
    filter.value = keep;
    fillSelect($("chat-label-add"), "+ label");
  }

  async function addChatLabel() {
    const select = $("chat-label-add");
    if (!select.value) return;
    const data = await api("PUT", chatPath() + "/labels/" + select.value);
    select.value = "";
    renderChatLabels(data.labels);
  }

  /** Chips on the waiting chats, and the filter: a chat without the label is hidden. */
  async function decorateQueue(ids) {
    if (!ids.length) return;
    const details = await api("GET", "/queue-details?ids=" + ids.map(encodeURIComponent).join(","));
    team.queueLabels = details.labels;
    team.queueTeams = details.teams;
    applyQueueFilter();
  }

  function applyQueueFilter() {
    const wanted = team.labels.find((label) => String(label.id) === $("queue-label-filter").value);
    const wantedTeam = $("queue-team-filter").value;
    for (const button of $("queue-list").querySelectorAll("button[data-id]")) {
      const names = team.queueLabels[button.dataset.id] || [];
      const teamName = (team.queueTeams || {})[button.dataset.id] || null;
      let chips = button.querySelector(".chips");
      if (!chips) { chips = el("div", "chips"); button.append(chips); }
      chips.replaceChildren(...(teamName ? [el("span", "chip team", teamName)] : []), ...names.map((name) => el("span", "chip", name)));
      const labelOk = !wanted || names.includes(wanted.name);
      const teamOk = !wantedTeam || teamName === wantedTeam;
      button.parentElement.hidden = !(labelOk && teamOk);
    }
  }

  // ---- Teams and transfer -------------------------------------------------------------
  async function loadTeams() {
    team.teams = (await api("GET", "/teams")).teams;
    const filter = $("queue-team-filter");
    const keep = filter.value;
    filter.replaceChildren(Object.assign(el("option", "", "All teams"), { value: "" }), ...team.teams.map((t) => Object.assign(el("option", "", t.name), { value: t.name })));
    filter.value = keep;
  }

  async function openTransfer() {
    const [people] = await Promise.all([api("GET", "/colleagues"), loadTeams()]);
    const select = $("transfer-target");
    const rank = { online: 0, away: 1, offline: 2 };
    const agents = people.agents.filter((a) => a.id !== team.agent.id).sort((a, b) => rank[a.presence] - rank[b.presence] || a.name.localeCompare(b.name));
    const agentGroup = el("optgroup"); agentGroup.label = "Agents";
    agentGroup.append(...agents.map((a) => Object.assign(el("option", "", a.name + " (" + a.presence + ", " + a.load + "/" + a.max_chats + ")"), { value: "agent:" + a.id })));
    const teamGroup = el("optgroup"); teamGroup.label = "Teams";
    teamGroup.append(...team.teams.map((t) => Object.assign(el("option", "", t.name + " (" + t.member_ids.length + " members)"), { value: "team:" + t.id })));
    select.replaceChildren(agentGroup, teamGroup);
    $("transfer-error").textContent = "";
    $("transfer-form").hidden = false;
    select.focus();
  }

  async function sendTransfer(event) {
    event.preventDefault();
    const [kind, id] = $("transfer-target").value.split(":");
    if (!id) { $("transfer-error").textContent = "Pick an agent or a team."; return; }
    const body = { note: $("transfer-note").value };
    body[kind === "team" ? "team_id" : "agent_id"] = Number(id);
    try {
      await api("POST", chatPath() + "/transfer", body);
      $("transfer-form").hidden = true;
      $("transfer-note").value = "";
      $("transfer-btn").hidden = true; // the desk's live event ends the chat here
    } catch (error) {
      $("transfer-error").textContent = error.message;
    }
  }

  // ---- Search and read-only history -------------------------------------------------------
  function openSearch() {
    const options = (select, first, values) => select.replaceChildren(
      Object.assign(el("option", "", first), { value: "" }),
      ...values.map(([value, text]) => Object.assign(el("option", "", text), { value })));
    options($("search-label"), "Any label", team.labels.map((l) => [l.name, l.name]));
    options($("search-team"), "Any team", team.teams.map((t) => [t.name, t.name]));
    options($("search-reason"), "Any reason", Object.entries(team.reasonLabels));
    $("search-view").hidden = false;
    $("search-words").focus();
    runSearch().catch((error) => { $("search-error").textContent = error.message; });
  }

  async function runSearch(event) {
    if (event) event.preventDefault();
    const query = new URLSearchParams();
    for (const [key, id] of [["q", "search-words"], ["contact", "search-contact"], ["label", "search-label"],
      ["team", "search-team"], ["reason", "search-reason"], ["since", "search-since"], ["until", "search-until"]]) {
      if ($(id).value) query.set(key, $(id).value);
    }
    const data = await api("GET", "/search?" + query.toString());
    $("search-error").textContent = data.results.length ? "" : "Nothing found.";
    $("search-results").replaceChildren(...data.results.map((hit) => {
      const li = el("li");
      const button = el("button", "item");
      button.type = "button";
      button.dataset.id = hit.conversation_id;
      const row = el("div", "row");
      row.append(el("strong", "", hit.customer_label), el("span", "time", new Date(hit.created_at).toLocaleString() + " · " + hit.state));
      row.firstChild.dir = "auto";
      button.append(row);
      if (hit.snippet) button.append(el("div", "snippet", hit.snippet));
      const chips = el("div", "chips");
      if (hit.team) chips.append(el("span", "chip team", hit.team));
      if (hit.reason) chips.append(el("span", "chip", team.reasonLabels[hit.reason] || hit.reason));
      for (const name of hit.labels) chips.append(el("span", "chip", name));
      if (hit.customer_email) chips.append(el("span", "chip", hit.customer_email));
      if (hit.contact) chips.append(el("span", "chip", hit.contact));
      button.append(chips);
      button.addEventListener("click", () => openHistory(hit.conversation_id).catch((error) => { $("search-error").textContent = error.message; }));
      li.append(button);
      return li;
    }));
  }

  /** The whole thread, read-only: messages and notes by time, no reply box. */
  async function openHistory(id) {
    const data = await api("GET", "/history/" + encodeURIComponent(id));
    const items = data.messages.map((m) => ({ at: m.created_at, node: historyMessage(m) }))
      .concat(data.notes.map((n) => ({ at: n.created_at, node: noteNode(n) })))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    $("search-transcript").replaceChildren(...items.map((item) => item.node));
    const labels = data.labels.map((l) => l.name).join(", ");
    $("search-thread-meta").textContent = data.customer_label + " · Read-only · " + data.conversation.state + (labels ? " · labels: " + labels : "");
    $("search-thread").hidden = false;
  }

  function historyMessage(message) {
    const li = el("li", "msg " + message.author);
    const who = message.author === "agent" ? (message.agent_name || "Agent") : { customer: "Customer", bot: "Assistant (bot)", system: "Notice" }[message.author];
    li.append(el("span", "who", who), el("div", "bubble", message.text), el("span", "at", new Date(message.created_at).toLocaleString()));
    return li;
  }

  // ---- Typing, seen, idle -> Away -----------------------------------------------------
  const send = (frame) => document.dispatchEvent(new CustomEvent("desk:send", { detail: frame }));

  function ownsCurrent() { return !!team.chatId && !$("reply-form").hidden; }

  /** The agent types: the customer sees it (at most every 2 s; the server throttles too). */
  function typingNotice() {
    const now = Date.now();
    if (!ownsCurrent() || now - team.typingSentAt < 2000 || $("reply-text").value.startsWith("/")) return;
    team.typingSentAt = now;
    send({ type: "typing", conversation_id: team.chatId });
  }

  function showCustomerTyping() {
    $("customer-typing").hidden = false;
    clearTimeout(team.typingTimer);
    team.typingTimer = setTimeout(() => { $("customer-typing").hidden = true; }, 4000);
  }

  /** The chat is open and the page in sight: the customer's last message counts as read. */
  function markSeen() {
    if (!ownsCurrent() || document.hidden) return;
    let last = 0;
    for (const [id, author] of team.messageAuthors) if (author === "customer" && id > last) last = id;
    if (last > (team.seenSent.get(team.chatId) || 0)) {
      team.seenSent.set(team.chatId, last);
      send({ type: "seen", conversation_id: team.chatId, message_id: last });
    }
  }

  /** No keyboard or mouse for the configured time: Away (no new chats); back on use. */
  function checkIdle() {
    const toggle = $("status-toggle");
    const online = toggle.getAttribute("aria-pressed") === "true";
    const idle = Date.now() - team.lastActivity > team.idleAwayMs;
    if (idle && online) { team.awayForIdle = true; toggle.click(); }
  }

  function onActivity() {
    team.lastActivity = Date.now();
    const toggle = $("status-toggle");
    if (team.awayForIdle && toggle.getAttribute("aria-pressed") === "false") {
      team.awayForIdle = false;
      toggle.click(); // back Online: the desk went Away on its own, not the agent
    }
  }

  function showError(error) { $("note-error").textContent = error.message; }

  // ---- Following the desk ------------------------------------------------------------
  document.addEventListener("desk:started", (event) => {
    team.agent = event.detail.agent;
    $("admin-link").hidden = team.agent.role !== "admin";
    Promise.all([loadLabels(), loadTeams()]).catch(showError);
    api("GET", "/desk-settings").then((d) => { team.idleAwayMs = d.idle_away_seconds * 1000; }).catch(() => {});
  });
  document.addEventListener("desk:chat-opened", (event) => {
    team.chatId = event.detail.id;
    team.replies = null; // filled per chat (agent and customer names)
    team.messageTimes = new Map(event.detail.detail.messages.map((m) => [m.id, m.created_at]));
    team.messageAuthors = new Map(event.detail.detail.messages.map((m) => [m.id, m.author]));
    $("customer-typing").hidden = true;
    setTimeout(markSeen, 0); // after desk.js shows the reply box of an owned chat
    $("reply-picker").hidden = true;
    $("note-error").textContent = "";
    renderChatLabels([]);
    const conv = event.detail.detail.conversation;
    $("transfer-btn").hidden = !(conv.state === "assigned" && conv.agent_id === team.agent.id);
    $("transfer-form").hidden = true;
    Promise.all([loadNotes(), api("GET", chatPath() + "/labels").then((d) => renderChatLabels(d.labels))]).catch(showError);
  });
  document.addEventListener("desk:queue-rendered", (event) => { decorateQueue(event.detail.ids).catch(() => {}); });
  document.addEventListener("desk:event", (event) => {
    const { event: name, data } = event.detail;
    if (name === "message.created" && data.conversation_id === team.chatId) {
      team.messageTimes.set(data.id, data.created_at);
      team.messageAuthors.set(data.id, data.author);
      if (data.author === "customer") { $("customer-typing").hidden = true; markSeen(); }
    }
    if (name === "conversation.typing" && data.conversation_id === team.chatId) showCustomerTyping();
    if (name === "note.created" && data.conversation_id === team.chatId) showNote(data);
  });
  document.addEventListener("DOMContentLoaded", () => {
    $("reply-text").addEventListener("input", () => { team.picked = 0; updatePicker().catch(showError); typingNotice(); });
    for (const kind of ["keydown", "mousedown", "mousemove", "wheel", "touchstart"]) {
      document.addEventListener(kind, onActivity, { passive: true });
    }
    document.addEventListener("visibilitychange", markSeen);
    setInterval(checkIdle, 15000);
    $("reply-form").addEventListener("keydown", onPickerKey, true);
    $("reply-text").addEventListener("blur", () => setTimeout(() => { $("reply-picker").hidden = true; }, 150));
    $("note-form").addEventListener("submit", sendNote);
    $("chat-label-add").addEventListener("change", () => addChatLabel().catch(showError));
    $("queue-label-filter").addEventListener("change", applyQueueFilter);
    $("queue-team-filter").addEventListener("change", applyQueueFilter);
    $("transfer-btn").addEventListener("click", () => openTransfer().catch(showError));
    $("transfer-form").addEventListener("submit", sendTransfer);
    $("transfer-cancel").addEventListener("click", () => { $("transfer-form").hidden = true; });
    $("search-btn").addEventListener("click", openSearch);
    $("search-close").addEventListener("click", () => { $("search-view").hidden = true; });
    $("search-form").addEventListener("submit", (event) => runSearch(event).catch((error) => { $("search-error").textContent = error.message; }));
    fetch("/api/agent/config").then((r) => r.json()).then((c) => { team.reasonLabels = c.reason_labels || {}; }).catch(() => {});
  });
})();
