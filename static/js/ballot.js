// Follows the sitting's snapshot to keep vote counts and status current.
// It never touches a ballot form: a choice being made is never reset.
//
// Receipts of secret ballots: before the ballot is cast, the browser makes a
// random receipt secret, keeps it in localStorage (this device only) and
// sends it with the ballot; the ballot's tracker is the hash of it, so if
// the answer is lost the page still shows the receipt, and the published
// box is checked here, without telling the server which tracker is ours.
// The server keeps the tracker with the ballot only, never with the member.
const live = () => document.querySelectorAll("[data-vote-live]");

// ---- the live count and the sitting's state --------------------------------------

function setPaused(paused) {
  for (const notice of document.querySelectorAll("[data-vote-paused-live]")) {
    notice.hidden = !paused;
  }
  for (const form of document.querySelectorAll("form[data-ballot]")) {
    for (const button of form.querySelectorAll("button[type=submit]")) {
      // Only undo what a pause did: a closed poll keeps its button disabled.
      if (paused && !button.disabled) {
        button.disabled = true;
        button.dataset.pausedBy = "sitting";
      } else if (!paused && button.dataset.pausedBy === "sitting") {
        button.disabled = false;
        delete button.dataset.pausedBy;
      }
    }
  }
}

function apply(vote, status) {
  // An open poll of a suspended sitting stays open and takes no ballot.
  if (status) setPaused(status !== "in_session");
  if (status === "in_session" && document.querySelector("[data-vote-paused]")) {
    // The page was drawn while suspended, without a ballot: point to it now.
    for (const notice of document.querySelectorAll("[data-vote-changed]")) {
      notice.hidden = false;
    }
  }
  for (const node of live()) {
    const poll = Number(node.dataset.votePoll);
    const notice = node.parentElement.querySelector("[data-vote-changed]");
    if (!vote || vote.poll !== poll) {
      // Another poll (a run-off, the next item): say so; the page reloads nothing.
      if (notice && vote) notice.hidden = false;
      continue;
    }
    const voted = node.querySelector("[data-vote-voted]");
    const eligible = node.querySelector("[data-vote-eligible]");
    if (voted && String(vote.voted) !== voted.textContent) voted.textContent = vote.voted;
    if (eligible && String(vote.eligible) !== eligible.textContent) {
      eligible.textContent = vote.eligible;
    }
    if (vote.state !== node.dataset.voteState && notice) {
      notice.hidden = false;
      const forms = document.querySelectorAll("form[data-ballot] button[type=submit]");
      // A closed poll refuses ballots anyway; disabling the button says so early.
      if (vote.state !== "open") for (const button of forms) button.disabled = true;
    }
  }
}

// sitting.js dispatches the whole snapshot after every update it applies.
document.addEventListener("sitting:snapshot", (event) =>
  apply(event.detail.vote, event.detail.status),
);

// ---- a vote whose answer was lost ------------------------------------------------

// A page restored from the back-forward cache shows what it showed before the
// vote was sent; after a vote sent from it, ask the server again.
const PENDING = "council:vote-pending";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (!form.matches("form[data-ballot], form[data-secret-cast]")) return;
  try {
    sessionStorage.setItem(PENDING, "1");
  } catch {
    // Storage refused (private mode): the reload below just does not happen.
  }
});

window.addEventListener("pageshow", (event) => {
  let pending = null;
  try {
    pending = sessionStorage.getItem(PENDING);
    sessionStorage.removeItem(PENDING);
  } catch {
    return;
  }
  // A fresh page is the server's answer already; a restored one may be stale.
  if (pending && event.persisted) window.location.reload();
});

// ---- receipts kept on this device ------------------------------------------------

const RECEIPTS = "council:receipts";
const KEEP_DAYS = 60;

function receipts() {
  try {
    const all = JSON.parse(localStorage.getItem(RECEIPTS) || "{}");
    const oldest = Date.now() - KEEP_DAYS * 86400000;
    for (const [key, entry] of Object.entries(all)) {
      if (!entry || typeof entry.secret !== "string" || entry.at < oldest) delete all[key];
    }
    return all;
  } catch {
    return null;
  }
}

function receiptKey(node) {
  return `${node.dataset.receiptPoll}:${node.dataset.receiptVoter}`;
}

function newSecret() {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return hex(bytes);
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The same derivation as voting.services.ballots.receipt_tracker.
async function trackerOf(poll, secret) {
  const data = new TextEncoder().encode(`council-receipt:${poll}:${secret}`);
  if (globalThis.crypto?.subtle) {
    return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
  }
  return sha256(data); // plain http: no SubtleCrypto outside a secure context
}

function keepSecret(form) {
  const field = form.querySelector("[data-receipt-secret]");
  const all = receipts();
  if (!field || all === null || !globalThis.crypto?.getRandomValues) return;
  const key = receiptKey(form);
  // Reuse a secret kept for this ballot: if an earlier send of it was stored
  // and its answer lost, the server answers with the receipt of that one.
  const secret = all[key]?.secret || field.value || newSecret();
  all[key] = { secret, at: all[key]?.at || Date.now() };
  try {
    localStorage.setItem(RECEIPTS, JSON.stringify(all));
  } catch {
    return; // not kept: send nothing, the server makes the tracker as without JS
  }
  field.value = secret;
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.matches("form[data-secret-cast]")) {
    keepSecret(form);
  }
});

async function showHeldReceipts() {
  const all = receipts();
  if (all === null) return;
  for (const node of document.querySelectorAll("[data-receipt-held]")) {
    const entry = all[receiptKey(node)];
    if (!entry) continue;
    const tracker = await trackerOf(node.dataset.receiptPoll, entry.secret);
    const code = node.querySelector("[data-receipt-tracker]");
    if (code) code.textContent = tracker;
    node.hidden = false;
  }
  // The published box: look for our tracker here, never in a request.
  for (const node of document.querySelectorAll("[data-receipt-box]")) {
    const entry = all[receiptKey(node)];
    if (!entry) continue;
    const tracker = await trackerOf(node.dataset.receiptPoll, entry.secret);
    const listed = Array.from(document.querySelectorAll("[data-box-tracker]"));
    const found = listed.find((item) => item.textContent.trim() === tracker);
    const code = node.querySelector("[data-receipt-tracker]");
    if (code) code.textContent = tracker;
    node.querySelector("[data-receipt-found]").hidden = !found;
    node.querySelector("[data-receipt-missing]").hidden = Boolean(found);
    if (found) found.classList.add("tracker-found");
    node.hidden = false;
  }
}

showHeldReceipts();

// ---- SHA-256, for pages served without a secure context ---------------------------

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
  0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
  0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
  0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
  0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const ror = (x, n) => (x >>> n) | (x << (32 - n));

export function sha256(bytes) {
  const hash = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
    0x5be0cd19,
  ]);
  const size = ((bytes.length + 9 + 63) >> 6) << 6;
  const message = new Uint8Array(size);
  message.set(bytes);
  message[bytes.length] = 0x80;
  const view = new DataView(message.buffer);
  const bits = bytes.length * 8;
  view.setUint32(size - 8, Math.floor(bits / 0x100000000));
  view.setUint32(size - 4, bits >>> 0);
  const w = new Uint32Array(64);
  for (let block = 0; block < size; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    let [a, b, c, d, e, f, g, h] = hash;
    for (let t = 0; t < 64; t++) {
      const t1 = (h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
      const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    hash[0] += a;
    hash[1] += b;
    hash[2] += c;
    hash[3] += d;
    hash[4] += e;
    hash[5] += f;
    hash[6] += g;
    hash[7] += h;
  }
  return Array.from(hash, (word) => word.toString(16).padStart(8, "0")).join("");
}
