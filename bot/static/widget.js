/* The shop's chat widget: one <script src=".../widget.js" defer></script> tag.
 *
 * Talks to the customer API (/api/conversations) of the server it was loaded from.
 * Every text is rendered with textContent, never as markup. The conversation id and
 * its token are kept in localStorage, so a reload resumes the chat; the websocket
 * reconnects by itself and asks for what it missed (messages have increasing ids and
 * are de-duplicated by id).
 *
 * Configured from the tag's data- attributes or a window.LarkspurChat object set before
 * it (position, colour, language, open, and the shop's signed customer); a wrong value
 * falls back to its default with a console warning. The widget's own words come from
 * bot/locales/<lang>.json (the server puts them in LOCALES); every text the customer or
 * an agent writes is shown with dir="auto", so right-to-left scripts read correctly.
 */
(function () {
  "use strict";

  // ---- pure helpers (no DOM): node's test runner loads them from this file --------------------
  /** The customer socket's address: no token in it (the token goes in the hello frame). */
  function socketUrl(base, conversationId) {
    return base.replace(/^http/, "ws") + "/api/conversations/" + encodeURIComponent(conversationId) + "/ws";
  }

  /** A locale text with its {placeholders} filled (unknown ones are left as they are). */
  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, key) {
      return values && Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  /** Who wrote `message`, in the widget's words `t` (an agent by their name). */
  function authorLabel(message, t) {
    if (message.author === "agent") return message.agent_name || t("author_team");
    if (message.author === "bot") return t("author_bot");
    if (message.author === "customer") return t("author_customer");
    return t("author_system");
  }

  /** The locale code to use for `requested` ("pt-BR" falls back to "pt"), or null. */
  function pickLanguage(requested, locales) {
    if (typeof requested !== "string") return null;
    var code = requested.trim();
    if (Object.prototype.hasOwnProperty.call(locales, code)) return code;
    var base = code.split("-")[0].toLowerCase();
    return Object.prototype.hasOwnProperty.call(locales, base) ? base : null;
  }

  /** The words of language `lang`: t(key, values), with English for any word it lacks. */
  function wordsFor(locales, lang) {
    var own = locales[lang] || {};
    var english = locales.en || {};
    var meta = own._language || english._language || {};
    return {
      lang: locales[lang] ? lang : "en",
      dir: meta.dir === "rtl" ? "rtl" : "ltr",
      t: function (key, values) {
        var text = Object.prototype.hasOwnProperty.call(own, key) ? own[key]
          : Object.prototype.hasOwnProperty.call(english, key) ? english[key] : key;
        return format(text, values);
      }
    };
  }

  var MAX_SETTING_CHARS = 200;
  var CUSTOMER_FIELDS = ["id", "name", "email", "timestamp", "signature"];

  /** The widget's settings from the global object and the tag's data- attributes (the
   * attributes win), with a warning for every value that was wrong and fell back. */
  function readConfig(global, dataset, locales) {
    var config = { position: null, color: null, lang: "en", open: false, customer: null };
    var warnings = [];
    var given = {};
    if (global !== undefined && global !== null) {
      if (typeof global === "object") {
        ["position", "color", "lang", "open"].forEach(function (key) {
          if (global[key] !== undefined) given[key] = global[key];
        });
        if (global.customer !== undefined) given.customer = global.customer;
      } else {
        warnings.push("window.LarkspurChat must be an object; it was ignored");
      }
    }
    var data = dataset || {};
    ["position", "color", "lang", "open"].forEach(function (key) {
      if (data[key] !== undefined) given[key] = data[key];
    });
    if (data.customerId !== undefined) {
      given.customer = {};
      CUSTOMER_FIELDS.forEach(function (field) {
        var value = data["customer" + field.charAt(0).toUpperCase() + field.slice(1)];
        if (value !== undefined) given.customer[field] = value;
      });
    }
    function wrong(name, value, fallback) {
      var shown = String(value);
      if (shown.length > 40) shown = shown.slice(0, 40) + "…";
      warnings.push("data-" + name + '="' + shown + '" is not valid; using ' + fallback);
    }
    function tooLong(value) { return typeof value === "string" && value.length > MAX_SETTING_CHARS; }
    if (given.position !== undefined) {
      if (given.position === "left" || given.position === "right") config.position = given.position;
      else wrong("position", given.position, "the default (right, or left for right-to-left languages)");
    }
    if (given.color !== undefined) {
      if (typeof given.color === "string" && /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(given.color)) {
        config.color = given.color;
      } else wrong("color", given.color, "the default colour");
    }
    if (given.lang !== undefined) {
      var code = tooLong(given.lang) ? null : pickLanguage(given.lang, locales);
      if (code) config.lang = code;
      else wrong("lang", given.lang, "English (en)");
    }
    if (given.open !== undefined) {
      if (given.open === true || given.open === "true") config.open = true;
      else if (given.open === false || given.open === "false") config.open = false;
      else wrong("open", given.open, "false");
    }
    if (given.customer !== undefined && given.customer !== null) {
      var customer = given.customer;
      var ok = typeof customer === "object" && typeof customer.id === "string" && customer.id &&
        typeof customer.signature === "string";
      CUSTOMER_FIELDS.forEach(function (field) {
        if (ok && customer[field] !== undefined && String(customer[field]).length > MAX_SETTING_CHARS) ok = false;
      });
      if (ok) {
        var timestamp = Number(customer.timestamp);
        config.customer = {
          id: customer.id, name: String(customer.name || ""), email: String(customer.email || ""),
          timestamp: Number.isInteger(timestamp) ? timestamp : null, signature: customer.signature
        };
      } else {
        warnings.push("the customer identity needs id and signature (each at most " +
          MAX_SETTING_CHARS + " characters); the chat starts without it");
      }
    }
    return { config: config, warnings: warnings };
  }

  /** Why a text may not be sent ("" when it may); the limit comes from the server. */
  function sendProblem(text, maxChars, t) {
    if (!text.trim()) return t("empty_message");
    if (maxChars && text.length > maxChars) return t("too_long", { length: text.length, max: maxChars });
    return "";
  }

  /** The conversation state a frame announces, or null when it announces none. */
  function stateOfFrame(frame) {
    var states = { queue: "queued", agent_joined: "assigned", bot_back: "bot", closed: "closed" };
    if (frame.type === "ready") return frame.state || null;
    return Object.prototype.hasOwnProperty.call(states, frame.type) ? states[frame.type] : null;
  }

  /** Milliseconds before reconnect attempt number `retry` (doubling, at most 15 s). */
  function reconnectDelay(retry) {
    return Math.min(15000, 1000 * Math.pow(2, retry));
  }

  if (typeof document === "undefined") {
    module.exports = { socketUrl: socketUrl, sendProblem: sendProblem, stateOfFrame: stateOfFrame,
      reconnectDelay: reconnectDelay, format: format, pickLanguage: pickLanguage,
      wordsFor: wordsFor, readConfig: readConfig, authorLabel: authorLabel };
    return;
  }

  var script = document.currentScript;
  var BASE = script && script.src ? new URL(script.src).origin : window.location.origin;
  var STORAGE_KEY = "larkspur-chat";
  var OPEN_KEY = "larkspur-chat-open";
  // The server puts shop.yml's shop_name here (bot/pages.py); this one is for tests.
  var SHOP = "Larkspur & Co.";
  // The server puts bot/locales/*.json here (bot/pages.py).
  var LOCALES = { en: {} };
  var SVG = "http://www.w3.org/2000/svg";
  var settings = readConfig(window.LarkspurChat, script ? script.dataset : {}, LOCALES);
  settings.warnings.forEach(function (warning) { console.warn("Chat widget: " + warning); });
  var CONFIG = settings.config;
  var WORDS = wordsFor(LOCALES, CONFIG.lang);
  var t = WORDS.t;

  var chat = {
    id: null, token: null, state: null, agentName: null, lastId: 0,
    seen: {}, ws: null, retry: 0, retryTimer: null, ping: null, busy: false, inFlight: 0,
    starting: null,
    features: {}, rated: false,
    maxChars: null  // the server's limit, from the start or status response
  };
  var ui = {};

  // ---- small DOM helpers: text only, never parsed as markup -----------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function icon(paths, size) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", size || 24);
    svg.setAttribute("height", size || 24);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICON_CHAT = ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"];
  var ICON_CLOSE = ["M6 6l12 12M18 6L6 18"];
  var ICON_SEND = ["M3 11l18-8-8 18-2-8-8-2z"];

  // ---- building the widget --------------------------------------------------------
  function build() {
    // The widget's own words set lang and dir; a right-to-left language mirrors the
    // layout and, unless the shop chose, puts the widget on the left.
    var side = CONFIG.position || (WORDS.dir === "rtl" ? "left" : "right");
    var root = el("div", { className: "lk-root lk-" + side, id: "lk-chat", lang: WORDS.lang, dir: WORDS.dir });
    if (CONFIG.color) {
      root.style.setProperty("--lk-accent", CONFIG.color);
      root.style.setProperty("--lk-accent-dark", CONFIG.color);
    }
    // Shown once its stylesheet is in, so the page never flashes unstyled buttons.
    root.hidden = true;
    var css = el("link", { rel: "stylesheet", href: BASE + "/widget.css" });
    css.addEventListener("load", function () { root.hidden = false; });
    css.addEventListener("error", function () { root.hidden = false; });
    document.head.appendChild(css);

    ui.launcher = el("button", {
      className: "lk-launcher", type: "button", "aria-expanded": "false",
      "aria-controls": "lk-panel", "aria-label": t("launcher_aria", { shop: SHOP })
    });
    ui.launcher.appendChild(icon(ICON_CHAT, 28));
    ui.launcherLabel = el("span", { className: "lk-launcher-label" }, t("launcher_label"));
    ui.launcher.appendChild(ui.launcherLabel);

    ui.panel = el("section", {
      className: "lk-panel", id: "lk-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "lk-title", "aria-describedby": "lk-status"
    });
    ui.panel.hidden = true;

    var header = el("header", { className: "lk-header" });
    var avatar = el("div", { className: "lk-avatar", "aria-hidden": "true", dir: "ltr" }, "L&");
    var titles = el("div", { className: "lk-titles" });
    // The shop's name is the shop's own text, in whatever script: its own direction.
    titles.appendChild(el("h2", { id: "lk-title", className: "lk-title", dir: "auto" }, SHOP));
    ui.status = el("p", { id: "lk-status", className: "lk-status", dir: "auto" }, "");
    titles.appendChild(ui.status);
    ui.endBtn = el("button", { type: "button", className: "lk-text-btn lk-end" }, t("end_chat"));
    ui.closeBtn = el("button", {
      type: "button", className: "lk-icon-btn lk-close", "aria-label": t("minimise")
    });
    ui.closeBtn.appendChild(icon(ICON_CLOSE, 20));
    header.appendChild(avatar);
    header.appendChild(titles);
    header.appendChild(ui.endBtn);
    header.appendChild(ui.closeBtn);

    ui.banner = el("div", { className: "lk-banner", role: "status", "aria-live": "polite" });
    ui.banner.hidden = true;
    ui.bannerText = el("span", { className: "lk-banner-text", dir: "auto" });
    ui.leaveQueue = el("button", { type: "button", className: "lk-text-btn" }, t("leave_queue"));
    ui.banner.appendChild(ui.bannerText);
    ui.banner.appendChild(ui.leaveQueue);

    ui.log = el("div", {
      className: "lk-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": t("messages_label"), tabindex: "0"
    });
    ui.typing = el("div", { className: "lk-typing", role: "status", "aria-live": "polite" });
    ui.typing.hidden = true;
    var dots = el("span", { className: "lk-dots", "aria-hidden": "true" });
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    ui.typing.appendChild(dots);
    ui.typing.appendChild(el("span", {}, t("typing")));

    ui.alert = el("p", { className: "lk-alert", role: "alert", dir: "auto" });
    ui.alert.hidden = true;

    ui.extra = el("div", { className: "lk-extra" });
    ui.recent = el("div", { className: "lk-card lk-recent", role: "group", "aria-labelledby": "lk-recent-title" });
    ui.recent.hidden = true;
    ui.recent.appendChild(el("h3", { className: "lk-card-title", id: "lk-recent-title" }, t("recent_title")));
    ui.recentText = el("p", { className: "lk-card-text", dir: "auto" });
    ui.recent.appendChild(ui.recentText);
    var recentRow = el("div", { className: "lk-row" });
    ui.recentContinue = el("button", { type: "button", className: "lk-primary" }, t("recent_continue"));
    ui.recentNew = el("button", { type: "button", className: "lk-text-btn" }, t("recent_new"));
    recentRow.appendChild(ui.recentContinue);
    recentRow.appendChild(ui.recentNew);
    ui.recent.appendChild(recentRow);
    ui.extra.appendChild(ui.recent);
    ui.contact = buildContactForm();
    ui.closed = buildClosedPanel();
    ui.extra.appendChild(ui.contact);
    ui.extra.appendChild(ui.closed);

    var actions = el("div", { className: "lk-actions" });
    ui.personBtn = el("button", { type: "button", className: "lk-person" }, t("talk_to_person"));
    actions.appendChild(ui.personBtn);

    ui.form = el("form", { className: "lk-composer", novalidate: "" });
    var label = el("label", { className: "lk-sr", "for": "lk-input" }, t("your_message"));
    ui.input = el("textarea", {
      id: "lk-input", rows: "1", placeholder: t("placeholder"),
      autocomplete: "off", dir: "auto"
    });
    ui.sendBtn = el("button", { type: "submit", className: "lk-send", "aria-label": t("send_message") });
    ui.sendBtn.appendChild(icon(ICON_SEND, 20));
    ui.form.appendChild(label);
    ui.form.appendChild(ui.input);
    ui.form.appendChild(ui.sendBtn);

    var footer = el("p", { className: "lk-footer" }, t("footer"));

    [header, ui.banner, ui.log, ui.typing, ui.alert, ui.extra, actions, ui.form, footer]
      .forEach(function (part) { ui.panel.appendChild(part); });
    root.appendChild(ui.panel);
    root.appendChild(ui.launcher);
    document.body.appendChild(root);

    ui.launcher.addEventListener("click", function () { open(true); });
    ui.closeBtn.addEventListener("click", function () { close(); });
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    ui.form.addEventListener("submit", function (event) { event.preventDefault(); sendTyped(); });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); sendTyped(); }
    });
    ui.input.addEventListener("input", autosize);
    ui.input.addEventListener("input", sendTypingNotice);
    ui.personBtn.addEventListener("click", askForPerson);
    ui.leaveQueue.addEventListener("click", leaveQueue);
    ui.endBtn.addEventListener("click", endChat);
  }

  function buildContactForm() {
    var form = el("form", { className: "lk-card lk-contact", novalidate: "" });
    form.hidden = true;
    form.appendChild(el("h3", { className: "lk-card-title" }, t("contact_title")));
    form.appendChild(el("p", { className: "lk-card-text" },
      t("contact_text")));
    var l1 = el("label", { "for": "lk-contact" }, t("contact_label"));
    ui.contactInput = el("input", { id: "lk-contact", type: "text", autocomplete: "email", maxlength: "255",
      dir: "auto" });
    var l2 = el("label", { "for": "lk-contact-msg" }, t("contact_message_label"));
    ui.contactMsg = el("textarea", { id: "lk-contact-msg", rows: "2", dir: "auto" });
    var row = el("div", { className: "lk-row" });
    var submit = el("button", { type: "submit", className: "lk-primary" }, t("contact_submit"));
    var cancel = el("button", { type: "button", className: "lk-text-btn" }, t("not_now"));
    row.appendChild(submit);
    row.appendChild(cancel);
    ui.contactResult = el("p", { className: "lk-card-text", role: "status", dir: "auto" });
    [l1, ui.contactInput, l2, ui.contactMsg, row, ui.contactResult].forEach(function (n) { form.appendChild(n); });
    form.addEventListener("submit", function (event) { event.preventDefault(); sendContact(); });
    cancel.addEventListener("click", function () { form.hidden = true; ui.input.focus(); });
    return form;
  }

  function buildClosedPanel() {
    var box = el("div", { className: "lk-card lk-closed" });
    box.hidden = true;
    box.appendChild(el("h3", { className: "lk-card-title" }, t("closed_title")));
    ui.csat = el("fieldset", { className: "lk-csat" });
    ui.csat.appendChild(el("legend", {}, t("csat_legend")));
    var scale = el("div", { className: "lk-scale" });
    for (var score = 1; score <= 5; score += 1) {
      var b = el("button", { type: "button", className: "lk-score", "data-score": String(score),
        "aria-label": t("rate_aria", { score: score }) }, String(score));
      b.addEventListener("click", onRate);
      scale.appendChild(b);
    }
    ui.csat.appendChild(scale);
    ui.csatResult = el("p", { className: "lk-card-text", role: "status", dir: "auto" });
    box.appendChild(ui.csat);
    box.appendChild(ui.csatResult);

    ui.mailForm = el("form", { className: "lk-mail", novalidate: "" });
    ui.mailForm.appendChild(el("label", { "for": "lk-mail" }, t("mail_label")));
    var row = el("div", { className: "lk-row" });
    ui.mailInput = el("input", { id: "lk-mail", type: "email", autocomplete: "email", maxlength: "254", dir: "auto",
      placeholder: t("mail_placeholder") });
    row.appendChild(ui.mailInput);
    row.appendChild(el("button", { type: "submit", className: "lk-primary" }, t("mail_send")));
    ui.mailForm.appendChild(row);
    ui.mailResult = el("p", { className: "lk-card-text", role: "status", dir: "auto" });
    ui.mailForm.appendChild(ui.mailResult);
    ui.mailForm.addEventListener("submit", function (event) { event.preventDefault(); mailTranscript(); });
    box.appendChild(ui.mailForm);

    var again = el("button", { type: "button", className: "lk-primary lk-again" }, t("new_chat"));
    again.addEventListener("click", newChat);
    box.appendChild(again);
    return box;
  }

  function autosize() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + "px";
  }

  // ---- opening and closing ----------------------------------------------------------
  function open(focusInput) {
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    document.documentElement.classList.add("lk-open");
    try { sessionStorage.setItem(OPEN_KEY, "1"); } catch (e) { /* private mode */ }
    if (!chat.id && !chat.unavailable) startOrResume();
    if (focusInput) ui.input.focus();
    scrollDown();
  }

  function close() {
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    document.documentElement.classList.remove("lk-open");
    try { sessionStorage.removeItem(OPEN_KEY); } catch (e) { /* private mode */ }
    ui.launcher.focus();
  }

  // ---- HTTP -------------------------------------------------------------------------
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (chat.token) headers["Authorization"] = "Bearer " + chat.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(BASE + "/api/conversations" + path, {
      method: method, headers: headers, credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || t("request_failed", { status: response.status }));
          error.status = response.status;
          error.retryAfter = response.headers.get("Retry-After");
          throw error;
        }
        return data;
      });
    });
  }

  function showAlert(text) {
    ui.alert.textContent = text;
    ui.alert.hidden = !text;
  }

  function saved() {
    try { return JSON.parse(localStorage.getItem(STORAGE_KEY) || "null"); } catch (e) { return null; }
  }

  function save() {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ id: chat.id, token: chat.token }));
    } catch (e) { /* storage full or blocked: the chat still works until a reload */ }
  }

  function forget() {
    try { localStorage.removeItem(STORAGE_KEY); } catch (e) { /* ignore */ }
  }

  // ---- conversation lifecycle ---------------------------------------------------------
  function startOrResume() {
    var stored = saved();
    if (stored && stored.id && stored.token) {
      chat.id = stored.id;
      chat.token = stored.token;
      resume();
    } else if (CONFIG.customer) {
      offerRecent();
    } else {
      start();
    }
  }

  function start() {
    chat.id = "pending";
    setTyping(true);
    var body = CONFIG.customer ? { customer: CONFIG.customer } : undefined;
    chat.starting = api("POST", "", body).then(function (data) {
      chat.id = data.conversation_id;
      chat.token = data.token;
      chat.features = data.features || {};
      applyLimits(data.limits);
      save();
      setState(data.state);
      data.messages.forEach(render);
      connect();
    }).catch(function (error) {
      chat.id = null;
      if (error.status === 429) { showAlert(error.message); return; }
      if (error.status === 403) { notAvailable(); return; }
      // A refused cross-origin request looks like a network failure to a script: the
      // server answering a request that needs no permission tells the two apart.
      return serverReachable().then(function (reachable) {
        if (reachable && !error.status) notAvailable();
        else showAlert(t("start_failed"));
      });
    }).then(function () { setTyping(false); chat.starting = null; });
  }

  function serverReachable() {
    return fetch(BASE + "/widget.css", { mode: "no-cors", credentials: "omit", cache: "no-store" })
      .then(function () { return true; }, function () { return false; });
  }

  /** This site is not one of the shop's listed origins: say so, and stop trying. */
  function notAvailable() {
    chat.unavailable = true;
    showAlert(t("not_available"));
    ui.panel.setAttribute("data-available", "no");
    ui.form.hidden = true;
    ui.endBtn.hidden = true;
    ui.personBtn.disabled = true;
  }

  /** An identified customer without a chat on this device: offer their recent one. */
  function offerRecent() {
    chat.id = "pending";
    api("POST", "/recent", { customer: CONFIG.customer }).then(function (data) {
      chat.id = null;
      ui.recentText.textContent = t("recent_text", { when: dateOf(data.updated_at) });
      ui.recent.hidden = false;
      ui.recentContinue.onclick = function () {
        ui.recent.hidden = true;
        chat.id = data.conversation_id;
        chat.token = data.token;
        save();
        resume();
      };
      ui.recentNew.onclick = function () { ui.recent.hidden = true; start(); };
    }).catch(function () {
      chat.id = null;
      start();  // none, or the identity did not hold: a new chat as usual
    });
  }

  function dateOf(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    return date.toLocaleString(WORDS.lang, { dateStyle: "medium", timeStyle: "short" });
  }

  function resume() {
    api("GET", "/" + encodeURIComponent(chat.id)).then(function (data) {
      chat.features = data.features || {};
      applyLimits(data.limits);
      applyStatus(data);
      return api("GET", "/" + encodeURIComponent(chat.id) + "/messages?after=" + chat.lastId);
    }).then(function (data) {
      data.messages.forEach(render);
      connect();
    }).catch(function (error) {
      if (error.status === 401 || error.status === 403 || error.status === 404) {
        // An expired or unknown chat: start afresh rather than show an error.
        forget();
        resetLog();
        start();
      } else {
        showAlert(t("load_failed"));
        scheduleReconnect();
      }
    });
  }

  function newChat() {
    disconnect();
    forget();
    resetLog();
    ui.closed.hidden = true;
    chat.rated = false;
    start();
    ui.input.focus();
  }

  function resetLog() {
    while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
    chat.id = null; chat.token = null; chat.lastId = 0; chat.seen = {};
    chat.state = null; chat.agentName = null;
    ui.mailResult.textContent = ""; ui.csatResult.textContent = ""; ui.contactResult.textContent = "";
  }

  // ---- state and status ---------------------------------------------------------------
  function applyStatus(data) {
    if (data.agent_name) chat.agentName = data.agent_name;
    setState(data.state);
    if (data.queue) showQueue(data.queue.position, data.queue.estimated_wait_seconds);
  }

  function setState(state) {
    chat.state = state;
    var text;
    if (state === "queued") text = t("status_queued");
    else if (state === "assigned") text = t("status_assigned", { agent: chat.agentName || t("a_person") });
    else if (state === "closed") text = t("status_closed");
    else text = t("status_bot");
    ui.status.textContent = text;
    ui.panel.setAttribute("data-state", state || "bot");
    ui.banner.hidden = state !== "queued";
    ui.personBtn.disabled = state !== "bot";
    ui.personBtn.textContent = state === "queued" ? t("person_on_the_way")
      : state === "assigned" ? t("talking_to_person") : t("talk_to_person");
    ui.endBtn.hidden = state === "closed";
    var closed = state === "closed";
    ui.form.hidden = closed;
    ui.closed.hidden = !closed;
    if (closed) {
      ui.contact.hidden = true;
      ui.csat.hidden = chat.rated;
      ui.mailForm.hidden = !chat.features.transcript_email;
      setTyping(false);
    }
  }

  function showQueue(position, waitSeconds) {
    var text = position === 1 ? t("queue_next") : t("queue_position", { position: position });
    if (waitSeconds !== null && waitSeconds !== undefined) {
      var minutes = Math.max(1, Math.round(waitSeconds / 60));
      text += " " + (minutes === 1 ? t("wait_minute") : t("wait_minutes", { minutes: minutes }));
    }
    ui.bannerText.textContent = text;
    ui.banner.hidden = false;
  }

  function setTyping(on) {
    ui.typing.hidden = !on;
    if (on) scrollDown();
  }

  // ---- messages -----------------------------------------------------------------------
  function render(message) {
    if (!message || chat.seen[message.id]) return;  // dedupe: reconnects replay
    chat.seen[message.id] = true;
    chat.lastId = Math.max(chat.lastId, message.id);
    clearQuickReplies();
    var item = el("div", { className: "lk-msg lk-" + message.author, "data-id": String(message.id) });
    if (message.author === "system") {
      item.appendChild(el("p", { className: "lk-notice", dir: "auto" }, message.text));
    } else {
      var meta = el("div", { className: "lk-meta" });
      meta.appendChild(el("span", { className: "lk-who", dir: "auto" }, authorLabel(message, t)));
      meta.appendChild(el("time", { className: "lk-time", datetime: message.created_at, dir: "auto" },
        timeOf(message.created_at)));
      item.appendChild(meta);
      // dir="auto": Hebrew, Persian or Arabic reads right to left, English left to right,
      // each message by its own first strong character.
      item.appendChild(el("div", { className: "lk-bubble", dir: "auto" }, message.text));
    }
    if (message.buttons && message.buttons.length) {
      var replies = el("div", { className: "lk-quick", role: "group", "aria-label": t("suggested_replies") });
      message.buttons.forEach(function (button) {
        var b = el("button", { type: "button", className: "lk-chip", dir: "auto" }, button.title);
        b.addEventListener("click", function () { onQuickReply(button); });
        replies.appendChild(b);
      });
      item.appendChild(replies);
    }
    ui.log.appendChild(item);
    if (message.author === "bot") setTyping(false);
    scrollDown();
  }

  function clearQuickReplies() {
    var old = ui.log.querySelectorAll(".lk-quick");
    for (var i = 0; i < old.length; i += 1) old[i].parentNode.removeChild(old[i]);
  }

  function onQuickReply(button) {
    if (button.action === "handoff") askForPerson();
    else if (button.action === "contact") showContactForm();
    else send(button.payload || button.title);
  }

  function timeOf(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function applyLimits(limits) {
    chat.maxChars = limits && limits.max_message_chars ? limits.max_message_chars : null;
    [ui.input, ui.contactMsg].forEach(function (node) {
      if (chat.maxChars) node.setAttribute("maxlength", String(chat.maxChars));
      else node.removeAttribute("maxlength");
    });
  }

  function sendTyped() {
    var text = ui.input.value;
    var problem = sendProblem(text, chat.maxChars, t);
    if (problem) { showAlert(problem); return; }
    ui.input.value = "";
    autosize();
    send(text, true);
  }

  function send(text, fromInput) {
    if (chat.starting) {
      // Typed before the chat finished starting: send as soon as it has.
      chat.starting.then(function () { send(text, fromInput); });
      return;
    }
    if (!chat.id || chat.id === "pending") {
      ui.input.value = text;
      showAlert(t("not_started"));
      if (!chat.id) start();
      return;
    }
    chat.inFlight += 1;
    showAlert("");
    if (chat.state === "bot") setTyping(true);
    api("POST", "/" + encodeURIComponent(chat.id) + "/messages", { text: text })
      .then(function (data) {
        render(data.message);
        data.replies.forEach(render);
        afterHandoff(data.handoff);
      })
      .catch(function (error) {
        // The text goes back into the box: nothing the customer typed is lost.
        ui.input.value = ui.input.value ? text + "\n" + ui.input.value : text;
        autosize();
        showAlert(error.status ? error.message : t("not_sent"));
      })
      .then(function () {
        chat.inFlight -= 1;
        if (chat.inFlight === 0) setTyping(false);
      });
  }

  function afterHandoff(handoff) {
    if (!handoff) return;
    if (handoff.outcome === "queued") {
      setState("queued");
      showQueue(handoff.position, handoff.estimated_wait_seconds);
    } else if (handoff.outcome === "assigned") {
      chat.agentName = handoff.agent_name;
      setState("assigned");
    } else if (handoff.outcome === "offline") {
      showContactForm();
    }
  }

  function askForPerson() {
    if (!chat.id || chat.id === "pending" || chat.busy) return;
    chat.busy = true;
    showAlert("");
    api("POST", "/" + encodeURIComponent(chat.id) + "/handoff").then(function (data) {
      data.replies.forEach(render);
      afterHandoff(data.handoff);
    }).catch(function (error) {
      showAlert(error.message);
    }).then(function () { chat.busy = false; });
  }

  function leaveQueue() {
    api("POST", "/" + encodeURIComponent(chat.id) + "/cancel").then(function (data) {
      setState(data.state);
    }).catch(function (error) { showAlert(error.message); });
  }

  function endChat() {
    if (!chat.id || chat.id === "pending") return;
    api("POST", "/" + encodeURIComponent(chat.id) + "/close").then(function (data) {
      setState(data.state);
    }).catch(function (error) { showAlert(error.message); });
  }

  function showContactForm() {
    ui.contact.hidden = false;
    ui.contactInput.focus();
  }

  function sendContact() {
    var contact = ui.contactInput.value.trim();
    if (!contact) { ui.contactResult.textContent = t("contact_missing"); return; }
    api("POST", "/" + encodeURIComponent(chat.id) + "/contact",
      { contact: contact, message: ui.contactMsg.value })
      .then(function () {
        ui.contact.hidden = true;
        ui.contactMsg.value = "";
        // The transcript can only go to an address left here: offer that one.
        if (contact.indexOf("@") > 0) ui.mailInput.value = contact;
        showAlert("");
        var note = el("div", { className: "lk-msg lk-system" });
        note.appendChild(el("p", { className: "lk-notice", dir: "auto" },
          t("contact_thanks", { contact: contact })));
        ui.log.appendChild(note);
        scrollDown();
      })
      .catch(function (error) { ui.contactResult.textContent = error.message; });
  }

  function onRate(event) {
    var score = Number(event.currentTarget.getAttribute("data-score"));
    api("POST", "/" + encodeURIComponent(chat.id) + "/csat", { score: score }).then(function () {
      chat.rated = true;
      ui.csat.hidden = true;
      ui.csatResult.textContent = t("csat_thanks");
    }).catch(function (error) {
      if (error.status === 409) { chat.rated = true; ui.csat.hidden = true; }
      ui.csatResult.textContent = error.status === 409 ? t("csat_already") : error.message;
    });
  }

  function mailTranscript() {
    var address = ui.mailInput.value.trim();
    api("POST", "/" + encodeURIComponent(chat.id) + "/transcript", { email: address }).then(function () {
      ui.mailResult.textContent = t("mail_sent", { address: address });
    }).catch(function (error) { ui.mailResult.textContent = error.message; });
  }

  // ---- websocket ------------------------------------------------------------------------
  function connect() {
    disconnect();
    if (!chat.id || !chat.token) return;
    var ws = new WebSocket(socketUrl(BASE, chat.id));
    chat.ws = ws;
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", token: chat.token, after: chat.lastId }));
      chat.ping = setInterval(function () {
        if (ws.readyState === 1) ws.send(JSON.stringify({ type: "ping" }));
      }, 25000);
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    ws.onclose = function (event) {
      clearInterval(chat.ping);
      if (chat.ws !== ws) return;  // replaced on purpose
      chat.ws = null;
      ui.panel.setAttribute("data-connection", "offline");
      if (event.code === 4401 || event.code === 4403) {
        showAlert(t("expired"));
        forget();
        return;
      }
      scheduleReconnect();
    };
  }

  function disconnect() {
    clearTimeout(chat.retryTimer);
    clearInterval(chat.ping);
    if (chat.ws) {
      var ws = chat.ws;
      chat.ws = null;
      ws.close();
    }
  }

  function scheduleReconnect() {
    clearTimeout(chat.retryTimer);
    var delay = reconnectDelay(chat.retry);
    chat.retry += 1;
    chat.retryTimer = setTimeout(function () {
      if (chat.state === null) resume(); else connect();
    }, delay);
  }

  // What each server frame does (ws.py lists them); unknown types are ignored.
  var FRAME_HANDLERS = {
    ready: function (frame) {
      chat.retry = 0;
      ui.panel.setAttribute("data-connection", "live");
      showAlert("");
      applyStatus(frame);
    },
    message: function (frame) { render(frame.message); },
    queue: function (frame) {
      setState(stateOfFrame(frame));
      showQueue(frame.position, frame.estimated_wait_seconds);
    },
    agent_joined: function (frame) {
      chat.agentName = frame.agent_name;
      setState(stateOfFrame(frame));
    },
    bot_back: function (frame) {
      chat.agentName = null;
      setState(stateOfFrame(frame));
    },
    closed: function (frame) { setState(stateOfFrame(frame)); },
    offline: function () { showContactForm(); },
    typing: function (frame) { showAgentTyping(frame.name); },
    seen: function (frame) { markSeen(frame.message_id); }
  };

  // ---- a person typing, "seen" (live only, never stored) ----------------------------------
  // The agent is typing: the typing line names them for a few seconds.
  function showAgentTyping(name) {
    var label = ui.typing.lastChild;
    label.textContent = name ? t("agent_typing", { name: name }) : t("team_typing");
    setTyping(true);
    clearTimeout(chat.agentTypingTimer);
    chat.agentTypingTimer = setTimeout(function () {
      setTyping(false);
      label.textContent = t("typing");
    }, 4000);
  }

  // The agent has read the customer's messages up to messageId: "Seen" under the latest.
  function markSeen(messageId) {
    var mine = ui.log.querySelectorAll(".lk-customer[data-id]");
    var latest = null;
    for (var i = 0; i < mine.length; i++) {
      if (Number(mine[i].getAttribute("data-id")) <= messageId) latest = mine[i];
    }
    var old = ui.log.querySelector(".lk-seen");
    if (!latest || (old && old.parentNode === latest)) return;
    if (old) old.parentNode.removeChild(old);
    latest.appendChild(el("span", { className: "lk-seen" }, t("seen")));
  }

  // Tell the agent the customer is typing, at most every 2 s (the server throttles too).
  function sendTypingNotice() {
    var now = Date.now();
    if (chat.state !== "assigned" || !chat.ws || chat.ws.readyState !== 1) return;
    if (now - (chat.typingSentAt || 0) < 2000) return;
    chat.typingSentAt = now;
    chat.ws.send(JSON.stringify({ type: "typing" }));
  }

  function onFrame(frame) {
    if (frame && Object.prototype.hasOwnProperty.call(FRAME_HANDLERS, frame.type)) FRAME_HANDLERS[frame.type](frame);
  }

  // ---- start ----------------------------------------------------------------------------
  function init() {
    build();
    var shouldOpen = false;
    try { shouldOpen = sessionStorage.getItem(OPEN_KEY) === "1"; } catch (e) { /* ignore */ }
    if (CONFIG.open) shouldOpen = true;
    if (saved()) {
      chat.features = {};
      startOrResume();
    }
    if (shouldOpen) open(false);
    window.addEventListener("online", function () { if (!chat.ws && chat.id) connect(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
