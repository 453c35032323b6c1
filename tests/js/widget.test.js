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

test("a message over the server's limit is refused with the numbers", () => {
  assert.equal(widget.sendProblem("   ", 10), "Write a message first.");
  assert.equal(widget.sendProblem("x".repeat(11), 10),
    "That message is too long (11 characters); the limit is 10.");
  assert.equal(widget.sendProblem("x".repeat(10), 10), "");
  // Before the server said its limit, the server alone decides.
  assert.equal(widget.sendProblem("x".repeat(5000), null), "");
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
