// Presence on a page of a live sitting that has no live view of its own (the
// vote controls, the ballot, the meeting's page): a socket in "presence" mode
// holds the member's lease while the page is open, so going from the sitting
// to the ballot and back never records a departure. It pings as often as the
// server's hello asks and reconnects when the connection drops. A page that
// runs sitting.js already holds the lease through its own socket.
//
// The page names its sitting on the script element:
// <script type="module" src=".../presence.js" data-presence-path="/ws/sitting/ID/">

const tag = document.querySelector("script[data-presence-path]");
const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4404]);
const livePage = document.querySelector('[data-sitting][data-audience="members"]');

function holdPresence(path) {
  let socket = null;
  let pinging = null;
  let retryDelay = 500;

  const ping = () => {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ action: "ping" }));
    }
  };

  const connect = () => {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const lang = encodeURIComponent(document.documentElement.lang || "");
    socket = new WebSocket(
      `${scheme}://${window.location.host}${path}?presence=1&lang=${lang}`,
    );
    socket.addEventListener("open", () => { retryDelay = 500; });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "hello" && message.ping > 0) {
        if (pinging !== null) window.clearInterval(pinging);
        pinging = window.setInterval(ping, message.ping * 1000);
      }
    });
    socket.addEventListener("close", (event) => {
      if (pinging !== null) window.clearInterval(pinging);
      pinging = null;
      if (FINAL_CLOSE_CODES.has(event.code)) return;
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    });
  };

  connect();
}

if (tag && !livePage) holdPresence(tag.dataset.presencePath);
