// The desk's pure helpers, run by node's own test runner (make lint).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const desk = require("../../handoff/static/desk.js");

test("waiting times read in seconds, minutes, then hours", () => {
  const start = "2026-01-05T12:00:00Z";
  const at = (seconds) => Date.parse(start) + seconds * 1000;
  assert.equal(desk.since(start, at(42)), "42s");
  assert.equal(desk.since(start, at(3 * 60 + 5)), "3 min");
  assert.equal(desk.since(start, at(65 * 60)), "1 h 5 min");
  assert.equal(desk.since(start, at(-30)), "0s"); // a clock slightly behind the server's
});

test("the socket URL follows the page's scheme and carries no token", () => {
  assert.equal(desk.socketUrl({ protocol: "https:", host: "desk.example" }), "wss://desk.example/api/agent/ws");
  assert.equal(desk.socketUrl({ protocol: "http:", host: "127.0.0.1:8000" }), "ws://127.0.0.1:8000/api/agent/ws");
});

test("reason labels come from the server; unknown reasons show as they are", () => {
  const labels = { frustration: "Frustrated" };
  assert.equal(desk.reasonLabel(labels, "frustration"), "Frustrated");
  assert.equal(desk.reasonLabel(labels, "something_new"), "something_new");
  assert.equal(desk.reasonLabel(labels, "constructor"), "constructor");
  assert.equal(desk.reasonLabel(labels, ""), "Handoff");
});

test("the counter shows the server's limit once known", () => {
  assert.equal(desk.counterText(12, 2000), "12/2000");
  assert.equal(desk.counterText(12, null), "12");
});
