// Live sitting: keeps the server-rendered page current from the versioned
// snapshot pushed over the websocket. No framework, no build step.
//
// Protocol: {"type":"snapshot","version":V,"data":{...}} replaces the state;
// {"type":"update","version":V,"prev":P,"changes":{...}} applies when P is the
// version we hold, is dropped when V is not newer, and otherwise means we
// missed a message: we ask for {"action":"resync"}.

const root = document.querySelector("[data-sitting]");
const labels = JSON.parse(document.getElementById("sitting-labels").textContent);
const audience = root.dataset.audience;
const me = root.dataset.user ? Number(root.dataset.user) : null;
const live = (name) => root.querySelector(`[data-live="${name}"]`);

const SYNC_EVERY_MS = 20000;
const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4404]);

let socket = null;
let version = 0;
let state = null;
let clockOffset = 0; // server time minus local time, in ms
let retryDelay = 500;
let timeUpFor = null;
let pinging = null;

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

function announce(text, urgent = false) {
  const region = live(urgent ? "alert" : "announce");
  if (!region || !text) return;
  // Re-setting the text makes screen readers read it even if it repeats.
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}

function setConnection(text, visible) {
  const badge = live("connection");
  if (!badge) return;
  badge.textContent = text;
  badge.hidden = !visible;
}

function describe(entry) {
  const kind = labels.kind[entry.kind] || entry.kind;
  return `${entry.name}${entry.group ? ` (${entry.group})` : ""} — ${kind}`;
}

function renderQueue(data) {
  const list = live("queue");
  if (!list) return;
  list.replaceChildren();
  if (!data.queue || data.queue.length === 0) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = labels.queue_empty;
    list.append(li);
    return;
  }
  const grantUrl = root.dataset.grantUrl;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  for (const entry of data.queue) {
    const li = document.createElement("li");
    li.dataset.request = entry.id;
    li.textContent = describe(entry);
    if (entry.person_id === me) li.classList.add("mine");
    if (grantUrl && csrf) {
      const form = document.createElement("form");
      form.method = "post";
      form.action = grantUrl;
      form.className = "inline-form";
      const token = csrf.cloneNode();
      const request = document.createElement("input");
      request.type = "hidden";
      request.name = "request";
      request.value = entry.id;
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "button button-small";
      button.textContent = labels.grant;
      form.append(token, request, button);
      li.append(" ", form);
    }
    list.append(li);
  }
}

function renderItem(data, previous) {
  const box = live("item");
  if (!box) return;
  const p = document.createElement("p");
  const item = data.item;
  if (item && item.closed && audience === "public") {
    p.textContent = labels.closed_hidden;
  } else if (item) {
    p.className = "current-item-title";
    p.textContent = `${item.position}. ${item.title}`;
  } else if (audience === "public" && data.closed_session) {
    p.textContent = labels.closed_hidden;
  } else {
    p.className = "muted";
    p.textContent = labels.no_item;
  }
  box.replaceChildren(p);
  for (const li of root.querySelectorAll("[data-live=agenda] li[data-item]")) {
    const current = item && String(item.id) === li.dataset.item;
    li.classList.toggle("current", Boolean(current));
    if (current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
  if (previous && item && item.id && previous.item?.id !== item.id) {
    announce(format(labels.now_item, item));
  }
}

function renderSpeaker(data, previous) {
  const speaker = data.speaker;
  const line = live("speaker");
  if (line) {
    line.textContent = speaker
      ? format(labels.has_floor, speaker) + (speaker.group ? ` (${speaker.group})` : "")
      : labels.nobody;
  }
  const before = previous?.speaker?.id ?? null;
  const now = speaker?.id ?? null;
  if (previous && before !== now) {
    announce(speaker ? format(labels.has_floor, speaker) : labels.floor_free);
  }
  tick();
}

function renderCounts(data) {
  const attendance = live("attendance");
  if (attendance && data.attendance) {
    attendance.textContent = format(labels.attendance_counts, data.attendance);
  }
  const quorum = live("quorum");
  if (quorum && data.quorum) {
    const q = data.quorum;
    const head = q.exempt ? labels.quorum_exempt
      : q.reached ? labels.quorum_reached : labels.quorum_missing;
    quorum.textContent = `${head} — ${format(labels.quorum_counts, q)}`;
    quorum.classList.toggle("status-ok", q.reached);
    quorum.classList.toggle("status-bad", !q.reached);
  }
}

function renderMine(data) {
  const status = live("me");
  if (!status || me === null) return;
  const present = (data.present_ids || []).includes(me);
  const recused = (data.recused_ids || []).includes(me);
  const waiting = (data.queue || []).some((entry) => entry.person_id === me);
  const speaking = data.speaker?.person_id === me;
  status.textContent = speaking ? labels.you_speaking
    : waiting ? labels.you_waiting
    : recused ? labels.you_recused
    : !present ? labels.you_absent : "";
  const ask = live("ask-button");
  const canAsk = present && !recused && !waiting && !speaking
    && data.status === "in_session" && Boolean(data.item);
  if (ask) ask.disabled = !canAsk;
  const withdraw = live("withdraw-button");
  if (withdraw) withdraw.disabled = !waiting;
  const join = live("join-button");
  if (join) join.disabled = present || !["in_session", "suspended"].includes(data.status);
  const leave = live("leave-button");
  if (leave) leave.disabled = !present;
}

function renderRegister(data) {
  for (const cell of root.querySelectorAll("[data-presence]")) {
    // The register page: presence is live; excuses and the log are on reload.
    const id = Number(cell.dataset.presence);
    const present = (data.present_ids || []).includes(id);
    const room = (data.room_ids || []).includes(id);
    const was = cell.classList.contains("is-present");
    cell.classList.toggle("is-present", present);
    if (present) cell.textContent = room ? labels.present_room : labels.present_remote;
    else if (was) cell.textContent = labels.not_present;
  }
}

function render(data, previous) {
  const status = live("status");
  if (status) status.textContent = labels.status[data.status] || data.status;
  const closedBadge = live("closed-badge");
  if (closedBadge) closedBadge.hidden = !data.closed_session;
  if (previous && previous.closed_session !== data.closed_session) {
    announce(data.closed_session ? labels.closed_session : labels.status[data.status]);
  } else if (previous && previous.status !== data.status) {
    announce(labels.status[data.status]);
  }
  renderItem(data, previous);
  renderSpeaker(data, previous);
  renderQueue(data);
  renderCounts(data);
  renderMine(data);
  renderRegister(data);
  const stream = live("stream");
  if (stream) {
    stream.hidden = !data.stream;
    const link = stream.querySelector("a");
    if (link && data.stream) link.href = data.stream;
  }
  document.dispatchEvent(new CustomEvent("sitting:snapshot", { detail: data }));
}

function tick() {
  const timer = live("timer");
  if (!timer) return;
  const speaker = state?.speaker;
  if (!speaker || !speaker.limit) {
    timer.hidden = true;
    timer.classList.remove("time-up");
    return;
  }
  const elapsed = (Date.now() + clockOffset - Date.parse(speaker.started_at)) / 1000;
  const remaining = Math.round(speaker.limit - elapsed);
  const abs = Math.abs(remaining);
  const clock = `${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, "0")}`;
  timer.hidden = false;
  timer.textContent = format(remaining >= 0 ? labels.remaining : labels.overtime, { clock });
  timer.classList.toggle("time-up", remaining <= 0);
  if (remaining <= 0 && timeUpFor !== speaker.id) {
    timeUpFor = speaker.id;
    announce(labels.time_up, true);
  }
}

function apply(data) {
  const previous = state;
  state = data;
  render(data, previous);
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(message));
    return true;
  }
  return false;
}

// The member's presence is a lease the server renews while the page talks:
// a ping as often as the server asks (its hello says how often), so a socket
// that silently died stops holding the member present.
function startPinging(seconds) {
  if (audience !== "members" || !(seconds > 0)) return;
  if (pinging !== null) window.clearInterval(pinging);
  pinging = window.setInterval(() => send({ action: "ping" }), seconds * 1000);
}

function onMessage(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return;
  }
  if (message.type === "hello") {
    clockOffset = message.now - Date.now();
    startPinging(message.ping);
  } else if (message.type === "snapshot") {
    if (message.version < version) return;
    version = message.version;
    apply(message.data);
  } else if (message.type === "update") {
    if (message.version <= version) return; // stale or repeated
    if (message.prev !== version || state === null) {
      send({ action: "resync" }); // we missed one: the next snapshot heals it
      return;
    }
    version = message.version;
    apply({ ...state, ...message.changes });
  } else if (message.type === "error") {
    const box = live("error");
    if (box) {
      box.textContent = message.message;
      box.hidden = false;
    }
  }
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  // The page's language: refusals sent over the socket are written in it.
  const lang = encodeURIComponent(document.documentElement.lang || "");
  socket = new WebSocket(
    `${scheme}://${window.location.host}${root.dataset.wsPath}?lang=${lang}`,
  );
  socket.addEventListener("open", () => {
    retryDelay = 500;
    setConnection(labels.connected, false);
    root.dataset.connected = "true";
  });
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", (event) => {
    root.dataset.connected = "false";
    if (FINAL_CLOSE_CODES.has(event.code)) return;
    setConnection(labels.reconnecting, true);
    window.setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  });
}

// Forms still post without JavaScript; with it, the socket carries them.
for (const form of root.querySelectorAll("form[data-ws-action]")) {
  form.addEventListener("submit", (event) => {
    const action = form.dataset.wsAction;
    const message = { action };
    const kind = form.querySelector("[name=kind]");
    if (kind) message.kind = kind.value;
    if (send(message)) {
      event.preventDefault();
      const box = live("error");
      if (box) box.hidden = true;
    }
  });
}

connect();
window.setInterval(tick, 1000);
window.setInterval(() => send({ action: "sync", version }), SYNC_EVERY_MS);
