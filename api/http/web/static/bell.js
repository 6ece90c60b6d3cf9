// The bell in the header: the caller's in-app notices, newest first, and how many are unread,
// kept live by the notification stream (GET /stream/notifications); where no stream is served
// (API workers under serve --workers) the list is read again every 30 seconds.

import * as api from "./api.js";
import { esc, formatTime, t } from "./i18n.js";

const LISTED = 30;
const POLL_MS = 30000;

let items = [];
let unread = 0;
let stream = null;
let poller = null;
let menuOpen = false;

const BELL_ICON = `<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
  <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/>
</svg>`;

// The header's markup for the bell (drawn into by drawBell).
export function bellMarkup() {
  return `<div class="bell" id="bell">
    <button type="button" class="ghost bell-button" id="bell-button" aria-haspopup="dialog"
      aria-expanded="false" aria-controls="bell-menu">${BELL_ICON}<span class="bell-count" id="bell-count" hidden></span></button>
    <div class="bell-menu" id="bell-menu" role="dialog" aria-label="${esc(t("bell.title"))}" hidden></div>
  </div>`;
}

// After the header is drawn: its bell shows what is known and answers clicks.
export function drawBell() {
  const button = document.getElementById("bell-button");
  if (!button) return;
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    toggle(!menuOpen);
  });
  drawCount();
  drawMenu();
}

export async function startBell() {
  stopBell();
  await reload();
  stream = api.openStream("/stream/notifications", {
    onOpen: (data) => {
      // the first event, and again when the caller read notices elsewhere
      if (data && typeof data.unread === "number" && data.unread !== unread) reload();
    },
    onEvent: (type, data) => {
      if (type !== "notice" || !data?.notice) return;
      items = [data.notice, ...items.filter((i) => i.id !== data.notice.id)].slice(0, LISTED);
      unread = data.unread;
      drawCount();
      drawMenu();
    },
    onDown: (error) => {
      if (error instanceof api.ApiError && error.status === 503 && !poller) {
        poller = setInterval(reload, POLL_MS); // no stream here: read the list now and then
      }
    },
  });
}

export function stopBell() {
  stream?.close();
  stream = null;
  clearInterval(poller);
  poller = null;
  items = [];
  unread = 0;
  menuOpen = false;
}

async function reload() {
  try {
    const answer = await api.get(`/notifications?limit=${LISTED}`);
    items = answer.items;
    unread = answer.unread;
  } catch {
    return; // the bell keeps what it showed
  }
  drawCount();
  drawMenu();
}

function drawCount() {
  const count = document.getElementById("bell-count");
  const button = document.getElementById("bell-button");
  if (!count || !button) return;
  count.hidden = unread === 0;
  count.textContent = unread > 99 ? "99+" : String(unread);
  const label = unread ? t("bell.unread", { n: unread }) : t("bell.title");
  button.setAttribute("aria-label", label);
  button.title = label;
}

function drawMenu() {
  const menu = document.getElementById("bell-menu");
  if (!menu) return;
  const rows = items.length
    ? items
        .map(
          (item) => `<li><button type="button" class="bell-item${item.read ? "" : " unread"}${item.urgent ? " urgent" : ""}"
              data-id="${esc(item.id)}" data-case="${esc(item.case)}">
              <span class="bell-text">${esc(item.text.replace(/^【枫桥】/, ""))}</span>
              <span class="bell-time">${esc(formatTime(item.created_at))}</span>
            </button></li>`,
        )
        .join("")
    : `<li class="bell-empty">${esc(t("bell.empty"))}</li>`;
  menu.innerHTML = `
    <div class="bell-head">
      <strong>${esc(t("bell.title"))}</strong>
      <span class="muted small">${esc(unread ? t("bell.unread", { n: unread }) : t("bell.allRead"))}</span>
      <button type="button" class="link" id="bell-read-all" ${unread ? "" : "disabled"}>${esc(t("bell.readAll"))}</button>
    </div>
    <ul class="bell-list">${rows}</ul>`;
  menu.querySelector("#bell-read-all")?.addEventListener("click", () => markRead(null));
  for (const row of menu.querySelectorAll(".bell-item")) {
    row.addEventListener("click", async () => {
      toggle(false);
      if (row.classList.contains("unread")) await markRead([row.dataset.id]);
      location.hash = `#/cases/${row.dataset.case}`;
    });
  }
}

async function markRead(ids) {
  try {
    const answer = await api.post("/notifications/read", ids ? { ids } : { all: true });
    unread = answer.unread;
    items = items.map((item) => (ids === null || ids.includes(item.id) ? { ...item, read: true } : item));
  } catch {
    return;
  }
  drawCount();
  drawMenu();
}

function toggle(show) {
  const menu = document.getElementById("bell-menu");
  const button = document.getElementById("bell-button");
  if (!menu || !button) return;
  menuOpen = show;
  menu.hidden = !show;
  button.setAttribute("aria-expanded", String(show));
}

document.addEventListener("click", (event) => {
  if (menuOpen && !document.getElementById("bell")?.contains(event.target)) toggle(false);
});
document.addEventListener("keydown", (event) => {
  if (menuOpen && event.key === "Escape") toggle(false);
});
