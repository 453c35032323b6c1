// The widget's pure helpers, run by node's own test runner (make lint).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const widget = require("../../bot/static/widget.js");

test("the socket URL carries no token and escapes the id", () => {
  assert.equal(widget.socketUrl("https://shop.example", "a b"),
    "wss://shop.example/api/conversations/a%20b/ws");
  assert.equal(widget.socketUrl("http://127.0.0.1:8000", "c1"),
    "ws://127.0.0.1:8000/api/conversations/c1/ws");
});

const LOCALES = {
  en: { _language: { name: "English", dir: "ltr" }, empty_message: "Write a message first.",
    too_long: "That message is too long ({length} characters); the limit is {max}.",
    status_assigned: "You're chatting with {agent} (a person)", launcher_label: "Chat with us" },
  he: { _language: { name: "עברית", dir: "rtl" }, launcher_label: "צ'אט" }
};
const en = widget.wordsFor(LOCALES, "en").t;

test("a message over the server's limit is refused with the numbers", () => {
  assert.equal(widget.sendProblem("   ", 10, en), "Write a message first.");
  assert.equal(widget.sendProblem("x".repeat(11), 10, en),
    "That message is too long (11 characters); the limit is 10.");
  assert.equal(widget.sendProblem("x".repeat(10), 10, en), "");
  // Before the server said its limit, the server alone decides.
  assert.equal(widget.sendProblem("x".repeat(5000), null, en), "");
});

test("the words come from the locale, with English for what a language lacks", () => {
  const he = widget.wordsFor(LOCALES, "he");
  assert.equal(he.dir, "rtl");
  assert.equal(he.lang, "he");
  assert.equal(he.t("launcher_label"), "צ'אט");
  assert.equal(he.t("empty_message"), "Write a message first.");
  assert.equal(en("status_assigned", { agent: "Noa" }), "You're chatting with Noa (a person)");
  // A placeholder without a value stays visible rather than printing "undefined".
  assert.equal(widget.format("Hi {name}", {}), "Hi {name}");
  assert.equal(widget.wordsFor(LOCALES, "xx").lang, "en");
  assert.equal(widget.wordsFor(LOCALES, "en").dir, "ltr");
});

test("a language is picked by its code or its base language", () => {
  assert.equal(widget.pickLanguage("he", LOCALES), "he");
  assert.equal(widget.pickLanguage("en-GB", LOCALES), "en");
  assert.equal(widget.pickLanguage("klingon", LOCALES), null);
  assert.equal(widget.pickLanguage(42, LOCALES), null);
});

test("data- attributes and window.LarkspurChat configure the widget; the tag wins", () => {
  const { config, warnings } = widget.readConfig(
    { position: "left", color: "#aa3366", open: true, lang: "en" },
    { position: "right", lang: "he" }, LOCALES);
  assert.deepEqual(warnings, []);
  assert.equal(config.position, "right");
  assert.equal(config.color, "#aa3366");
  assert.equal(config.lang, "he");
  assert.equal(config.open, true);
  assert.equal(widget.readConfig(undefined, {}, LOCALES).config.position, null);
});

test("wrong, oversized or malformed values fall back with a warning each", () => {
  const { config, warnings } = widget.readConfig(undefined, {
    position: "top", color: "red; background:url(x)", lang: "x".repeat(5000), open: "maybe"
  }, LOCALES);
  assert.deepEqual(config, { position: null, color: null, lang: "en", open: false, customer: null });
  assert.equal(warnings.length, 4);
  assert.ok(warnings[0].startsWith('data-position="top" is not valid'));
  // The warning quotes at most 40 characters of a huge value.
  assert.ok(warnings[2].length < 120, warnings[2]);
  assert.equal(widget.readConfig("not an object", {}, LOCALES).warnings.length, 1);
});

test("a signed customer is read from the object or the data- attributes", () => {
  const signed = { id: "c-1", name: "Ana", email: "a@example.com", timestamp: 1700000000,
    signature: "ab".repeat(32) };
  assert.deepEqual(widget.readConfig({ customer: signed }, {}, LOCALES).config.customer, signed);
  const fromTag = widget.readConfig(undefined, { customerId: "c-1", customerName: "Ana",
    customerEmail: "a@example.com", customerTimestamp: "1700000000",
    customerSignature: "ab".repeat(32) }, LOCALES).config.customer;
  assert.deepEqual(fromTag, signed);
  const bad = widget.readConfig({ customer: { id: "c-1" } }, {}, LOCALES);
  assert.equal(bad.config.customer, null);
  assert.equal(bad.warnings.length, 1);
});

test("frames map to the state they announce", () => {
  assert.equal(widget.stateOfFrame({ type: "ready", state: "assigned" }), "assigned");
  assert.equal(widget.stateOfFrame({ type: "queue", position: 2 }), "queued");
  assert.equal(widget.stateOfFrame({ type: "agent_joined" }), "assigned");
  assert.equal(widget.stateOfFrame({ type: "bot_back" }), "bot");
  assert.equal(widget.stateOfFrame({ type: "closed" }), "closed");
  assert.equal(widget.stateOfFrame({ type: "message" }), null);
  assert.equal(widget.stateOfFrame({ type: "toString" }), null);
});

test("reconnects back off to at most 15 s", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(widget.reconnectDelay), [1000, 2000, 4000, 8000, 15000, 15000]);
});

test("the widget labels each author in its locale's words, an agent by name", () => {
  // The real English file: every label the widget needs is there.
  const english = JSON.parse(require("node:fs").readFileSync(
    require("node:path").join(__dirname, "../../bot/locales/en.json"), "utf8"));
  const t = widget.wordsFor({ en: english, he: { author_customer: "אני" } }, "en").t;
  assert.equal(widget.authorLabel({ author: "bot" }, t), "Assistant (bot)");
  assert.equal(widget.authorLabel({ author: "customer" }, t), "You");
  assert.equal(widget.authorLabel({ author: "system" }, t), "Notice");
  assert.equal(widget.authorLabel({ author: "agent", agent_name: "Noa Levi" }, t), "Noa Levi");
  assert.equal(widget.authorLabel({ author: "agent", agent_name: null }, t), "Support team");
  const he = widget.wordsFor({ en: english, he: { author_customer: "אני" } }, "he").t;
  assert.equal(widget.authorLabel({ author: "customer" }, he), "אני");
  assert.equal(widget.authorLabel({ author: "bot" }, he), "Assistant (bot)");  // English fills the gap
  assert.equal(t("agent_typing", { name: "Noa" }), "Noa is typing…");
  assert.equal(t("seen"), "Seen");
});
