// Agent desk: plain JS, no framework. Every text goes through textContent.
"use strict";

(() => {
  // ---- Pure helpers (no DOM): node's test runner loads them from this file ----------------------
  /** "42s", "3 min", "1 h 5 min" since `iso`, as of `now` (ms). */
  function since(iso, now = Date.now()) {
    const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
    if (seconds < 60) return seconds + "s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  /** The desk socket's address for a page at `loc`: no token in it (the hello frame has it). */
  function socketUrl(loc) {
    return (loc.protocol === "https:" ? "wss://" : "ws://") + loc.host + "/api/agent/ws";
  }

  /** The label of a handoff reason, from the server's labels; the raw name when unknown. */
  function reasonLabel(labels, reason) {
    return Object.prototype.hasOwnProperty.call(labels, reason) ? labels[reason] : (reason || "Handoff");
  }

  /** "12/2000" (or "12" while the server's limit is not known yet). */
  function counterText(length, maxChars) {
    return maxChars ? length + "/" + maxChars : String(length);
  }

  if (typeof document === "undefined") {
    module.exports = { since, socketUrl, reasonLabel, counterText };
    return;
  }

  const TOKEN_KEY = "handoff.desk.token";
  // From GET /api/agent/config (handoff/contract.py), loaded before anything is shown.
  const config = { reason_labels: {}, max_message_chars: null };

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    agent: null,
    online: true,
    queue: [],
    mine: [],
    tickets: [],
    current: null, // {id, kind: "chat"|"ticket", detail, ticket}
    lastMessageId: 0,
    unread: new Map(),
    notices: 0,
    ws: null,
    wsRetry: 0,
    pingTimer: null,
    audio: null,
  };

  const $ = (id) => document.getElementById(id);

  // The team tools (desk_team.js) follow the desk through these DOM events instead of
  // reaching into this file's state: "desk:started", "desk:chat-opened",
  // "desk:queue-rendered", "desk:event" (every live event frame).
  function announce(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail }));
  }

  // ...and send live frames (typing, seen) on this desk's socket through "desk:send".
  document.addEventListener("desk:send", (event) => {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(event.detail));
  });

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---- HTTP -------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (state.token) headers["Authorization"] = "Bearer " + state.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch("/api/agent" + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { data = {}; }
    if (!response.ok) {
      if (response.status === 401 && path !== "/login") signOut(data.error || "Please sign in again.");
      throw new ApiError(response.status, data.error || "Request failed (" + response.status + ")");
    }
    return data;
  }

  // Failures with no better place to show them: logged, never silently dropped.
  function reportError(error) {
    console.error("desk:", error);
  }

  async function loadConfig() {
    Object.assign(config, await api("GET", "/config"));
    if (config.max_message_chars) $("reply-text").setAttribute("maxlength", String(config.max_message_chars));
    updateCounter();
  }

  // ---- Formatting ---------------------------------------------------------------
  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function reasonBadge(reason) {
    const known = Object.prototype.hasOwnProperty.call(config.reason_labels, reason);
    return el("span", "badge " + (known ? reason : ""), reasonLabel(config.reason_labels, reason));
  }
  function authorLabel(message) {
    if (message.author === "customer") return "Customer";
    if (message.author === "bot") return "Assistant (bot)";
    if (message.author === "agent") {
      const name = message.agent_name || "Agent";
      return state.agent && message.agent_id === state.agent.id ? name + " (you)" : name;
    }
    return "System";
  }

  // ---- Notifications --------------------------------------------------------------
  function beep() {
    try {
      if (!state.audio) state.audio = new (window.AudioContext || window.webkitAudioContext)();
      const ctx = state.audio;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.setValueAtTime(880, ctx.currentTime);
      osc.frequency.setValueAtTime(1175, ctx.currentTime + 0.12);
      gain.gain.setValueAtTime(0.0001, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.25, ctx.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.32);
    } catch (_) { /* sound is a nicety; the title notice still works */ }
  }
  function notify(what) {
    state.notices += 1;
    document.title = "(" + state.notices + ") " + what + " – Support desk";
    beep();
  }
  function clearNotices() {
    state.notices = 0;
    document.title = "Support desk";
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) setTimeout(clearNotices, 4000); });
  window.addEventListener("focus", () => setTimeout(clearNotices, 4000));

  // ---- Rendering: sidebar ------------------------------------------------------------
  function renderMe() {
    if (!state.agent) return;
    $("agent-name").textContent = state.agent.name;
    $("agent-load").textContent = state.mine.length + "/" + state.agent.max_chats;
    const toggle = $("status-toggle");
    toggle.setAttribute("aria-pressed", String(state.online));
    toggle.textContent = state.online ? "Online" : "Away";
  }

  function listItem(id, active, onOpen) {
    const li = el("li");
    const button = el("button", "item" + (active ? " active" : ""));
    button.type = "button";
    button.dataset.id = id;
    button.addEventListener("click", onOpen);
    li.appendChild(button);
    return [li, button];
  }

  function renderQueue() {
    const list = $("queue-list");
    list.replaceChildren();
    for (const item of state.queue) {
      const [li, button] = listItem(item.conversation_id, isCurrent(item.conversation_id), () => openChat(item.conversation_id));
      const row = el("div", "row");
      // The customer's name (identified) or "Visitor 3fQx9a", as the server labels it.
      row.appendChild(el("strong", "", item.customer_label)).dir = "auto";
      row.appendChild(reasonBadge(item.reason));
      const time = el("span", "time" + (Date.now() - new Date(item.queued_at) > 5 * 60000 ? " long" : ""), "waiting " + since(item.queued_at));
      time.dataset.since = item.queued_at;
      row.appendChild(time);
      button.appendChild(row);
      button.appendChild(el("div", "snippet", item.first_message || item.summary || "(no message yet)")).dir = "auto";
      list.appendChild(li);
    }
    $("queue-count").textContent = state.queue.length;
    $("queue-empty").hidden = state.queue.length > 0;
    announce("desk:queue-rendered", { ids: state.queue.map((item) => item.conversation_id) });
  }

  function renderMine() {
    const list = $("mine-list");
    list.replaceChildren();
    for (const chat of state.mine) {
      const [li, button] = listItem(chat.id, isCurrent(chat.id), () => openChat(chat.id));
      const row = el("div", "row");
      row.appendChild(el("strong", "", labels.get(chat.id) || chat.customer_label)).dir = "auto";
      const unread = state.unread.get(chat.id) || 0;
      if (unread) row.appendChild(el("span", "unread", unread + " new"));
      row.appendChild(el("span", "time", "since " + clock(chat.updated_at)));
      button.appendChild(row);
      list.appendChild(li);
    }
    $("mine-count").textContent = state.mine.length;
    $("mine-empty").hidden = state.mine.length > 0;
    renderMe();
  }

  function renderTickets() {
    const list = $("ticket-list");
    list.replaceChildren();
    for (const ticket of state.tickets) {
      const [li, button] = listItem("t" + ticket.id, state.current && state.current.ticket && state.current.ticket.id === ticket.id, () => openTicket(ticket));
      const row = el("div", "row");
      row.appendChild(ticket.reason ? reasonBadge(ticket.reason) : el("span", "badge", "Contact left"));
      row.appendChild(el("span", "time", since(ticket.created_at) + " ago"));
      button.appendChild(row);
      button.appendChild(el("div", "snippet", ticket.contact ? ticket.contact + (ticket.message ? " — " + ticket.message : "") : "No contact details left yet"));
      list.appendChild(li);
    }
    $("ticket-count").textContent = state.tickets.length;
    $("ticket-empty").hidden = state.tickets.length > 0;
  }

  function isCurrent(id) { return !!state.current && state.current.id === id; }

  // ---- Rendering: conversation -----------------------------------------------------------
  function messageNode(message) {
    const li = el("li", "msg " + message.author);
    li.dataset.id = message.id;
    const who = li.appendChild(el("span", "who", authorLabel(message)));
    who.dir = "auto";
    // dir="auto": each message reads in its own script's direction (Hebrew, Persian...).
    li.appendChild(el("div", "bubble", message.text)).dir = "auto";
    li.appendChild(el("span", "at", clock(message.created_at)));
    return li;
  }

  function appendMessage(message) {
    const list = $("transcript");
    if (list.querySelector('[data-id="' + Number(message.id) + '"]')) return;
    const node = messageNode(message);
    // Keep id order even if two events arrive out of order.
    const later = Array.from(list.children).find((child) => Number(child.dataset.id) > message.id);
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.insertBefore(node, later || null);
    if (nearBottom || message.author === "agent") list.scrollTop = list.scrollHeight;
  }

  function renderContext(handoff, ticket) {
    const context = (handoff && handoff.context) || {};
    const summary = typeof context.summary === "string" && context.summary ? context.summary : null;
    $("ctx-summary").textContent = summary || "No summary was provided for this handoff.";
    const frustration = context.frustration && typeof context.frustration === "object" ? context.frustration : null;
    $("ctx-frustration-row").hidden = !frustration;
    if (frustration) {
      const score = Number(frustration.score);
      const meter = $("ctx-frustration-score");
      meter.textContent = Number.isFinite(score) ? Math.round(score * 100) + "%" : "–";
      meter.className = "meter" + (score >= 0.7 ? " high" : score >= 0.4 ? " mid" : "");
      const cues = Array.isArray(frustration.cues) ? frustration.cues.map(String) : [];
      $("ctx-cues").textContent = cues.length ? "(" + cues.join(", ") + ")" : "";
    }
    const intents = Array.isArray(context.intents) ? context.intents : [];
    $("ctx-intents-row").hidden = intents.length === 0;
    const chips = $("ctx-intents");
    chips.replaceChildren();
    for (const intent of intents) {
      if (!intent || typeof intent !== "object") continue;
      const confidence = Number(intent.confidence);
      chips.appendChild(el("span", "chip", String(intent.name) + (Number.isFinite(confidence) ? " " + Math.round(confidence * 100) + "%" : "")));
    }
    const faq = Array.isArray(context.faq_answers) ? context.faq_answers : [];
    $("ctx-faq-row").hidden = faq.length === 0;
    const faqChips = $("ctx-faq");
    faqChips.replaceChildren();
    for (const answer of faq) {
      const label = typeof answer === "string" ? answer : answer && (answer.name || answer.intent || answer.response || JSON.stringify(answer));
      faqChips.appendChild(el("span", "chip", label));
    }
    $("ctx-ticket-row").hidden = !ticket;
    if (ticket) $("ctx-ticket").textContent = ticket.contact ? ticket.contact + (ticket.message ? " — " + ticket.message : "") : "not left yet";
  }

  function renderChatControls() {
    const current = state.current;
    const conv = current.detail.conversation;
    const mine = conv.state === "assigned" && conv.agent_id === state.agent.id;
    $("claim-btn").hidden = conv.state !== "queued";
    $("handback-btn").hidden = !mine;
    $("close-btn").hidden = !(mine || conv.state === "queued");
    $("reply-form").hidden = !mine;
    $("ticket-actions").hidden = current.kind !== "ticket";
    const labels = { queued: "Waiting", assigned: mine ? "Assigned to you" : "Assigned", bot: "With the bot", closed: "Closed" };
    $("chat-state").textContent = labels[conv.state] || conv.state;
  }

  function showNotice(text) {
    const notice = $("chat-notice");
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  async function openChat(id, ticket) {
    let data;
    try {
      data = await api("GET", "/conversations/" + encodeURIComponent(id));
    } catch (error) {
      if (error.status === 403 || error.status === 404) {
        await refreshLists();
        showPane(false);
      }
      return;
    }
    state.current = { id, kind: ticket ? "ticket" : "chat", detail: data, ticket: ticket || null };
    state.unread.delete(id);
    showPane(true);
    $("chat-title").textContent = ticket ? "Offline ticket #" + ticket.id : listedLabel(id);
    loadCustomer(id, ticket);
    const handoff = data.handoff;
    const reason = $("chat-reason");
    reason.replaceWith(Object.assign(reasonBadge(handoff && handoff.reason), { id: "chat-reason" }));
    $("chat-waited").textContent = handoff ? "escalated " + since(handoff.queued_at) + " ago" : "";
    renderContext(handoff, ticket);
    const list = $("transcript");
    list.replaceChildren();
    for (const message of data.messages) {
      appendMessage(message);
      state.lastMessageId = Math.max(state.lastMessageId, message.id);
    }
    list.scrollTop = list.scrollHeight;
    showNotice("");
    $("reply-error").textContent = "";
    renderChatControls();
    renderQueue(); renderMine(); renderTickets();
    announce("desk:chat-opened", { id, detail: data, agent: state.agent });
    if (!$("reply-form").hidden) $("reply-text").focus();
  }

  // ---- who the customer is, and their earlier chats (read-only) ----------------------
  const labels = new Map();  // conversation id -> "Ana Pereira" or "Visitor 3fQx9a"

  /** The label a list already showed for ``id`` (until the customer card arrives). */
  function listedLabel(id) {
    const listed = state.mine.find((chat) => chat.id === id) || state.queue.find((item) => item.conversation_id === id);
    return labels.get(id) || (listed && listed.customer_label) || "Visitor " + id.slice(0, 6);
  }

  async function loadCustomer(id, ticket) {
    $("earlier-view").hidden = true;
    let card;
    try {
      card = await api("GET", "/conversations/" + encodeURIComponent(id) + "/customer");
    } catch (error) {
      return;  // the chat itself still shows; the title keeps "Visitor <id>"
    }
    labels.set(id, card.label);
    if (!isCurrent(id)) return;
    if (!ticket) $("chat-title").textContent = card.label;
    renderMine();
    $("customer-name").textContent = card.label;
    const customer = card.customer;
    $("customer-email").textContent = customer && customer.email ? customer.email : "";
    $("customer-none").hidden = card.identified;
    $("customer-earlier-title").hidden = !card.earlier.length;
    const list = $("customer-earlier");
    list.replaceChildren();
    for (const past of card.earlier) list.appendChild(earlierItem(id, past));
  }

  function earlierItem(currentId, past) {
    const li = el("li", "earlier-item");
    const button = li.appendChild(el("button", "link", earlierSummary(past)));
    button.type = "button";
    button.addEventListener("click", () => openEarlier(currentId, past));
    return li;
  }

  function earlierSummary(past) {
    const when = new Date(past.created_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    const why = past.reason ? reasonLabel(config.reason_labels, past.reason) : "answered by the assistant";
    const csat = past.csat ? " · rated " + past.csat + "/5" : "";
    return when + " · " + why + csat;
  }

  async function openEarlier(currentId, past) {
    const path = "/conversations/" + encodeURIComponent(currentId) + "/customer/earlier/" + encodeURIComponent(past.id);
    let data;
    try { data = await api("GET", path); } catch (error) { reportError(error); return; }
    if (!isCurrent(currentId)) return;
    $("earlier-title").textContent = earlierSummary(past);
    const list = $("earlier-transcript");
    list.replaceChildren(...data.messages.map(messageNode));
    $("earlier-view").hidden = false;
  }

  function openTicket(ticket) { return openChat(ticket.conversation_id, ticket); }

  function showPane(chat) {
    $("chat").hidden = !chat;
    $("placeholder").hidden = chat;
    if (!chat) state.current = null;
  }

  // ---- Actions ------------------------------------------------------------------------------
  async function act(button, fn) {
    button.disabled = true;
    try { await fn(); } catch (error) { showNotice(error.message); } finally { button.disabled = false; }
  }

  async function claim() {
    const id = state.current.id;
    await api("POST", "/conversations/" + encodeURIComponent(id) + "/claim");
    await refreshLists();
    await openChat(id);
  }

  async function handBack() {
    const id = state.current.id;
    await api("POST", "/conversations/" + encodeURIComponent(id) + "/handback");
    await refreshLists();
    await afterEnded(id, "Handed back to the bot. The assistant has greeted the customer again.");
  }

  async function closeChat() {
    const id = state.current.id;
    await api("POST", "/conversations/" + encodeURIComponent(id) + "/close");
    await refreshLists();
    await afterEnded(id, "Chat closed.");
  }

  async function afterEnded(id, text) {
    if (!isCurrent(id)) return;
    state.current.detail.conversation.state = "ended";
    $("reply-form").hidden = true;
    $("handback-btn").hidden = true;
    $("close-btn").hidden = true;
    $("claim-btn").hidden = true;
    $("chat-state").textContent = "Ended";
    showNotice(text);
  }

  async function sendReply(event) {
    event.preventDefault();
    const box = $("reply-text");
    const text = box.value;
    if (!text.trim()) { $("reply-error").textContent = "Write something first."; return; }
    const max = config.max_message_chars;
    if (max && text.length > max) { $("reply-error").textContent = "At most " + max + " characters."; return; }
    $("send-btn").disabled = true;
    try {
      const data = await api("POST", "/conversations/" + encodeURIComponent(state.current.id) + "/messages", { text });
      box.value = ""; // only cleared once stored: a failed send loses nothing
      updateCounter();
      $("reply-error").textContent = "";
      appendMessage(data.message);
    } catch (error) {
      $("reply-error").textContent = error.message;
    } finally {
      $("send-btn").disabled = false;
      box.focus();
    }
  }

  function updateCounter() { $("reply-counter").textContent = counterText($("reply-text").value.length, config.max_message_chars); }

  async function toggleStatus() {
    const data = await api("POST", "/status", { online: !state.online });
    state.online = data.agent.online;
    state.agent = data.agent;
    renderMe();
  }

  async function ticketDone() {
    const ticket = state.current.ticket;
    await api("POST", "/tickets/" + ticket.id + "/done");
    showPane(false);
    await refreshTickets();
  }

  // ---- Data refresh ---------------------------------------------------------------------------
  async function refreshQueue() { state.queue = (await api("GET", "/queue")).queue; renderQueue(); }
  async function refreshMine() { state.mine = (await api("GET", "/conversations")).conversations; renderMine(); }
  async function refreshTickets() { state.tickets = (await api("GET", "/tickets")).tickets; renderTickets(); }
  async function refreshLists() { await Promise.all([refreshQueue(), refreshMine(), refreshTickets()]); }

  // ---- Live events -------------------------------------------------------------------------------
  function connect() {
    if (!state.token) return;
    const ws = new WebSocket(socketUrl(location));
    state.ws = ws;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "hello", token: state.token, last_message_id: state.lastMessageId }));
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      handleFrame(frame).catch(reportError);
    });
    ws.addEventListener("close", (event) => {
      setConnection(false);
      clearInterval(state.pingTimer);
      if (state.ws !== ws || !state.token) return;
      if (event.code === 4401) { signOut("Your session ended, please sign in again."); return; }
      const delay = Math.min(15000, 500 * 2 ** state.wsRetry++);
      setTimeout(connect, delay);
    });
  }

  function setConnection(live) {
    const node = $("connection");
    node.className = "connection " + (live ? "live" : "down");
    node.textContent = live ? "live" : "reconnecting…";
  }

  async function handleFrame(frame) {
    if (frame.type === "ready") {
      state.wsRetry = 0;
      setConnection(true);
      state.agent = frame.agent;
      state.queue = frame.queue;
      renderQueue();
      clearInterval(state.pingTimer);
      state.pingTimer = setInterval(() => {
        if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify({ type: "ping" }));
      }, 25000);
      await refreshLists();
      return;
    }
    if (frame.type !== "event") return;
    announce("desk:event", { event: frame.event, data: frame.data || {} });
    if (!Object.prototype.hasOwnProperty.call(EVENT_HANDLERS, frame.event)) return;
    await EVENT_HANDLERS[frame.event](frame.data || {}, frame.event);
  }

  async function onAssigned(data) {
    if (data.agent_id === state.agent.id) {
      await refreshMine();
      if (data.how !== "claim") { notify("Chat assigned to you"); }
    } else if (data.previous_agent_id === state.agent.id) {
      await refreshMine();
      if (isCurrent(data.conversation_id)) afterEnded(data.conversation_id, "This chat was moved to " + (data.agent_name || "the queue") + ".");
    }
    if (isCurrent(data.conversation_id) && state.current.detail.conversation.state === "queued") {
      await openChat(data.conversation_id);
    }
  }

  async function onEnded(data, event) {
    await refreshMine();
    if (isCurrent(data.conversation_id) && state.current.kind === "chat" && data.agent_id !== state.agent.id) {
      afterEnded(data.conversation_id, event === "conversation.closed" ? "The customer left; the chat is closed." : "The customer went back to the assistant.");
    }
  }

  // What each live event does (names: handoff/contract.py EventName); others are ignored.
  const EVENT_HANDLERS = {
    "message.created": async (data) => onMessage(data),
    "conversation.queued": async () => { notify("New chat"); await refreshQueue(); },
    "queue.changed": refreshQueue,
    "conversation.assigned": onAssigned,
    "conversation.returned_to_bot": onEnded,
    "conversation.closed": onEnded,
    "ticket.created": async () => { notify("New offline ticket"); await refreshTickets(); },
    "ticket.updated": refreshTickets,
  };

  function onMessage(message) {
    state.lastMessageId = Math.max(state.lastMessageId, message.id);
    if (isCurrent(message.conversation_id)) {
      appendMessage(message);
    } else if (state.mine.some((chat) => chat.id === message.conversation_id)) {
      state.unread.set(message.conversation_id, (state.unread.get(message.conversation_id) || 0) + 1);
      renderMine();
    } else if (message.conversation_state === "queued") {
      refreshQueue().catch(reportError);
    }
    if (message.author === "customer" && message.conversation_agent_id === state.agent.id && (document.hidden || !isCurrent(message.conversation_id))) {
      notify("New message");
    }
  }

  // ---- Session -------------------------------------------------------------------------------------
  async function signIn(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    const login = $("login-name").value.trim();
    const password = $("login-password").value;
    if (!login || !password) { $("login-error").textContent = "Enter your login and password."; return; }
    beepUnlock();
    try {
      const data = await api("POST", "/login", { login, password });
      state.token = data.token;
      sessionStorage.setItem(TOKEN_KEY, data.token);
      $("login-password").value = "";
      await start();
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  }

  // Browsers only allow sound after a user gesture: create the audio context on sign-in.
  function beepUnlock() {
    try { if (!state.audio) state.audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (_) { /* no audio */ }
  }

  async function start() {
    const me = await api("GET", "/me");
    state.agent = me.agent;
    const status = await api("POST", "/status", { online: true });
    state.agent = status.agent;
    state.online = status.agent.online;
    $("login-view").hidden = true;
    $("desk-view").hidden = false;
    renderMe();
    announce("desk:started", { agent: state.agent, token: state.token });
    await refreshLists();
    connect();
  }

  function signOut(message) {
    const ws = state.ws;
    state.token = null;
    state.ws = null;
    sessionStorage.removeItem(TOKEN_KEY);
    if (ws) ws.close();
    clearInterval(state.pingTimer);
    $("desk-view").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    showPane(false);
  }

  async function logout() {
    try { await api("POST", "/status", { online: false }); } catch (_) { /* signing out anyway */ }
    // Ends the session on the server: the token stops working everywhere at once.
    try { await api("POST", "/logout"); } catch (_) { /* signing out anyway */ }
    signOut("");
  }

  // ---- Wiring -------------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", signIn);
    $("reply-form").addEventListener("submit", sendReply);
    $("reply-text").addEventListener("input", updateCounter);
    $("reply-text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("reply-form").requestSubmit(); }
    });
    $("claim-btn").addEventListener("click", (e) => act(e.currentTarget, claim));
    $("handback-btn").addEventListener("click", (e) => act(e.currentTarget, handBack));
    $("close-btn").addEventListener("click", (e) => act(e.currentTarget, closeChat));
    $("ticket-done-btn").addEventListener("click", (e) => act(e.currentTarget, ticketDone));
    $("earlier-close").addEventListener("click", () => { $("earlier-view").hidden = true; });
    $("status-toggle").addEventListener("click", () => toggleStatus().catch(reportError));
    $("logout").addEventListener("click", logout);
    // Waiting times tick without a server round trip.
    setInterval(() => {
      for (const node of document.querySelectorAll("[data-since]")) node.textContent = "waiting " + since(node.dataset.since);
    }, 15000);
    loadConfig().catch(reportError).then(() => {
      if (state.token) start().catch((error) => { reportError(error); signOut(""); });
    });
  });
})();
