"""static/js/presence.js, run by Node against a fake page and socket.

The script is what keeps a member present on the ballot and the vote
controls: it must open the members' socket in presence mode, ping as often
as the server's hello asks, come back after a dropped connection, stop on a
refusal, and stay out of the way on a page that has its own live socket.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "static/js/presence.js"
NODE = shutil.which("node")

HARNESS = r"""
const [script, livePage] = process.argv.slice(-2);
const sockets = [];
const timers = [];
const intervals = new Map();
let nextId = 1;
class FakeSocket {
  static OPEN = 1;
  constructor(url) {
    this.url = url; this.sent = []; this.listeners = {}; this.readyState = 0;
    sockets.push(this);
  }
  addEventListener(kind, listener) { (this.listeners[kind] ||= []).push(listener); }
  emit(kind, event) { for (const l of this.listeners[kind] || []) l(event); }
  send(text) { this.sent.push(JSON.parse(text)); }
}
globalThis.WebSocket = FakeSocket;
globalThis.window = {
  location: { protocol: "https:", host: "council.example" },
  setInterval(fn, ms) {
    const id = nextId++;
    intervals.set(id, { fn, ms });
    return id;
  },
  clearInterval(id) { intervals.delete(id); },
  setTimeout(fn, ms) { timers.push({ fn, ms }); return nextId++; },
};
const tag = { dataset: { presencePath: "/ws/sitting/7/" } };
globalThis.document = {
  documentElement: { lang: "nl" },
  querySelector(selector) {
    if (selector === "script[data-presence-path]") return tag;
    if (selector.startsWith("[data-sitting]")) return livePage === "1" ? {} : null;
    return null;
  },
};
await import(script);
const seen = { urls: () => sockets.map((s) => s.url) };
const out = { opened: sockets.length };
if (sockets.length) {
  const first = sockets[0];
  first.readyState = 1;
  first.emit("open", {});
  const hello = { type: "hello", now: 0, user: 3, ping: 15 };
  first.emit("message", { data: JSON.stringify(hello) });
  out.intervals = [...intervals.values()].map((i) => i.ms);
  for (const i of intervals.values()) { i.fn(); i.fn(); }
  out.sent = first.sent;
  first.emit("message", { data: "not json" });
  first.readyState = 3;
  first.emit("close", { code: 1006 });
  out.intervalsAfterClose = intervals.size;
  out.retryDelays = timers.map((t) => t.ms);
  timers.shift().fn();
  out.urls = seen.urls();
  sockets[1].emit("close", { code: 4403 });
  out.timersAfterRefusal = timers.length;
}
console.log(JSON.stringify(out));
"""

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def run(live_page: bool) -> dict:
    result = subprocess.run(
        [NODE, "--input-type=module", "-", SCRIPT.as_uri(), "1" if live_page else "0"],
        input=HARNESS,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_script_holds_presence_pings_and_reconnects():
    seen = run(live_page=False)
    assert seen["opened"] == 1
    assert seen["urls"] == [
        "wss://council.example/ws/sitting/7/?presence=1&lang=nl",
        "wss://council.example/ws/sitting/7/?presence=1&lang=nl",
    ]
    # As often as the hello says, in milliseconds; each tick is one ping.
    assert seen["intervals"] == [15000]
    assert seen["sent"] == [{"action": "ping"}, {"action": "ping"}]
    # A dropped connection stops the pings and comes back; a refusal does not.
    assert seen["intervalsAfterClose"] == 0
    assert seen["retryDelays"] == [500]
    assert seen["timersAfterRefusal"] == 0


def test_a_page_with_its_own_live_socket_opens_no_second_one():
    assert run(live_page=True) == {"opened": 0}
