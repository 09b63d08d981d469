// Progressive enhancement of the clerk's pages; everything works without it.
// - After an item moved, the page reloads at the item: put the keyboard focus
//   back on the same move button, so that pressing Enter again keeps moving it.
// - On the convocation page, the urgency reason is asked only when urgent.

const KEY = "meetings:last-move";

for (const form of document.querySelectorAll("form[data-move]")) {
  form.addEventListener("submit", () => {
    sessionStorage.setItem(KEY, form.dataset.move);
  });
}

function refocusMovedItem() {
  const direction = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  if (!direction || !location.hash.startsWith("#item-")) return;
  const item = document.getElementById(location.hash.slice(1));
  if (!item) return;
  const buttons = [...item.querySelectorAll("form[data-move] button")];
  const same = item.querySelector(`form[data-move="${direction}"] button`);
  const target = same && !same.disabled ? same : buttons.find((b) => !b.disabled);
  if (target) target.focus();
}

// After the load, when the browser has finished scrolling to the item.
if (document.readyState === "complete") refocusMovedItem();
else window.addEventListener("load", refocusMovedItem, { once: true });

const urgent = document.getElementById("id_urgent");
const reason = document.getElementById("id_urgency_reason");
if (urgent && reason) {
  const field = reason.closest(".field");
  const sync = () => {
    field.hidden = !urgent.checked;
    reason.required = urgent.checked;
  };
  urgent.addEventListener("change", sync);
  sync();
}
