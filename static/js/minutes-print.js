// Follows a background print job: polls its status until the PDF is ready.
const box = document.getElementById("print-job");

async function poll() {
  const response = await fetch(box.dataset.statusUrl, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) return false;
  const status = await response.json();
  document.getElementById("print-progress").value = status.percent;
  document.getElementById("print-state").textContent =
    `${status.label} — ${status.done}/${status.total}`;
  const error = document.getElementById("print-error");
  error.textContent = status.error;
  error.hidden = !status.error;
  document.getElementById("print-download").hidden = status.state !== "done";
  return status.state === "pending" || status.state === "running";
}

async function follow() {
  try {
    if (await poll()) setTimeout(follow, 700);
  } catch {
    setTimeout(follow, 3000);
  }
}

if (box) follow();
