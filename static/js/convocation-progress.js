// Follows the convocations the worker is sending: while some wait, the
// clerk's editor refreshes their count (a live region that stays in place)
// and their rows from the part of the page the server renders again.
const box = document.getElementById("convocations-live");
const parts = ["convocation-progress", "convocation-rows"];

async function poll() {
  const response = await fetch(box.dataset.progressUrl, {
    headers: { Accept: "text/html" },
    credentials: "same-origin",
  });
  if (!response.ok) return false;
  const fragment = document.createElement("template");
  fragment.innerHTML = await response.text();
  const fresh = fragment.content.getElementById("convocations-live");
  if (!fresh) return false;
  for (const id of parts) {
    const part = fresh.querySelector(`#${id}`);
    if (part) document.getElementById(id).innerHTML = part.innerHTML;
  }
  box.dataset.pending = fresh.dataset.pending;
  return box.dataset.pending === "1";
}

async function follow() {
  try {
    if (await poll()) setTimeout(follow, 3000);
  } catch {
    setTimeout(follow, 10000);
  }
}

if (box && box.dataset.pending === "1") setTimeout(follow, 3000);
