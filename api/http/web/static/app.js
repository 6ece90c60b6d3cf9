// The dashboard's shell: sign-in, the header, hash routes (#/ board, #/cases/{id}, #/stats,
// #/inspections: 督查回访's sampled cases).

import * as api from "./api.js";
import { errorText } from "./api.js";
import { bellMarkup, drawBell, startBell, stopBell } from "./bell.js";
import { renderBoard } from "./board.js";
import { renderCase } from "./case.js";
import { renderClues } from "./clues.js";
import { renderInspections } from "./inspections.js";
import { renderKeyPersons } from "./key_persons.js";
import { renderScreening } from "./screening.js";
import { lang, setLang, t, name, esc } from "./i18n.js";
import { renderStats } from "./stats.js";

const state = {
  caller: null, // {sub, role, unit}
  units: new Map(), // code → {code, name, tier, parent}
  unit: null, // the caller's unit
  cleanup: null, // what the current page must stop when another is shown
};

const view = () => document.getElementById("view");
// who reads the 督查 samples of their subtree (GET /inspections)
const INSPECTION_READERS = ["inspector", "supervisor", "auditor", "admin"];
// who reads the clues of their subtree (GET /clues)
// who reads the key-person list of their subtree (GET /key-persons)
const KEY_PERSON_READERS = ["supervisor", "auditor"];
// who reads the clues of their subtree (GET /clues)
const CLUE_READERS = ["reporter", "mediator", "supervisor", "auditor", "admin"];
// who reads the 排查 grid of their subtree, or files a village's report (GET/POST /screening/…)
const SCREENING_READERS = ["reporter", "mediator", "supervisor", "auditor", "admin"];

// --- unit names ----------------------------------------------------------------------------

export function unitName(code) {
  return state.units.get(code)?.name ?? code;
}

// "罗城镇（示例） · 石溪村（示例）": the unit and its ancestors below the caller's unit.
export function unitPath(code) {
  const names = [];
  let unit = state.units.get(code);
  if (!unit) return code || "";
  while (unit) {
    names.unshift(unit.name);
    if (unit.code === state.caller.unit || !unit.parent) break;
    if (unit.parent === state.caller.unit) break;
    unit = state.units.get(unit.parent);
  }
  return names.join(" · ");
}

export function appState() {
  return state;
}

// --- toasts ---------------------------------------------------------------------------------

export function toast(message, kind = "ok") {
  const box = document.getElementById("toasts");
  const item = document.createElement("div");
  item.className = `toast toast-${kind}`;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  item.textContent = message;
  box.append(item);
  setTimeout(() => item.classList.add("leaving"), 3500);
  setTimeout(() => item.remove(), 4000);
}

// --- sign-in --------------------------------------------------------------------------------

function showSignIn(message = "", kind = "error") {
  stopPage();
  document.body.classList.add("signed-out");
  renderHeader();
  view().innerHTML = `
    <section class="signin card-panel" aria-labelledby="signin-title">
      <div class="signin-mark" aria-hidden="true">枫</div>
      <h1 id="signin-title">${esc(t("signin.title"))}</h1>
      <p class="muted">${esc(t("signin.lead"))}</p>
      <form id="signin-form" novalidate>
        <label for="token">${esc(t("signin.token"))}</label>
        <textarea id="token" name="token" rows="4" spellcheck="false" autocomplete="off"
          placeholder="eyJhbGciOi…" required></textarea>
        <p class="form-error" id="signin-error" role="alert" ${message && kind === "error" ? "" : "hidden"}>${esc(message)}</p>
        <p class="form-info" ${message && kind !== "error" ? "" : "hidden"}>${esc(message)}</p>
        <button type="submit" class="primary" id="signin-submit">${esc(t("signin.submit"))}</button>
      </form>
      <p class="muted small">${esc(t("signin.note"))}</p>
    </section>`;
  const form = document.getElementById("signin-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = form.token.value.trim().replace(/^Bearer\s+/i, "");
    const error = document.getElementById("signin-error");
    const claims = api.decodeToken(value);
    const fail = (text) => {
      error.textContent = text;
      error.hidden = false;
    };
    if (!claims) return fail(t("signin.bad"));
    if (claims.exp && claims.exp * 1000 < Date.now()) return fail(t("signin.expired"));
    const button = document.getElementById("signin-submit");
    button.disabled = true;
    button.textContent = t("signin.busy");
    api.saveToken(value);
    try {
      await start();
    } catch (problem) {
      api.forgetToken();
      button.disabled = false;
      button.textContent = t("signin.submit");
      fail(problem instanceof api.ApiError && problem.status === 401 ? t("signin.rejected") : errorText(problem));
    }
  });
  document.getElementById("token").focus();
}

// After a token is stored: who is calling, the names of their units, then the page.
async function start() {
  const claims = api.caller();
  if (!claims) throw new api.ApiError(401, { detail: "no token" });
  // who the staff directory lets in, as what and where: the token's claims as the server took
  // them (an identity provider's token names only the user), and their name
  const me = await api.get("/users/me");
  const own = await api.get(`/units/${encodeURIComponent(me.unit)}`);
  state.caller = { ...claims, role: me.acting_as, unit: me.unit, name: me.name };
  state.unit = own;
  state.units = new Map([[own.code, own]]);
  try {
    for (const unit of await api.get("/units")) state.units.set(unit.code, unit);
  } catch {
    // names fall back to codes
  }
  document.body.classList.remove("signed-out");
  renderHeader();
  route();
  watchMode();
  startBell();
}

// --- the operating mode ---------------------------------------------------------------------

const MODE_REFRESH_MS = 60000;
const MODE_MIN_GAP_MS = 5000; // a board refreshing every second asks for the mode at most this often
let modeTimer = null;
let modeAsked = 0;
let modeNow = null; // the last answer of /units/{own unit}/mode

// The mode in force where the caller works (set on their county, or the city's): a badge in the
// header, and a banner while it is not normal (holiday, emergency), since clocks started now run
// differently and whoever reads a deadline should know why.
export async function showMode() {
  if (!state.caller) return;
  modeAsked = Date.now();
  try {
    modeNow = await api.get(`/units/${encodeURIComponent(state.caller.unit)}/mode`);
  } catch {
    // the last answer stands; the next refresh tries again
  }
  drawMode();
}

// Called on every board refresh: the mode again, unless it was asked for a moment ago.
export function refreshMode() {
  if (Date.now() - modeAsked >= MODE_MIN_GAP_MS) showMode();
}

function drawMode() {
  const banner = document.getElementById("mode-banner");
  const badge = document.getElementById("mode-badge");
  if (!modeNow) return;
  const { mode, source } = modeNow;
  if (banner) {
    banner.dataset.mode = mode;
    banner.hidden = mode === "normal";
    banner.textContent = mode === "normal" ? "" : t(`mode.${mode}`);
  }
  if (badge) {
    badge.dataset.mode = mode;
    badge.hidden = false;
    badge.textContent = t(`mode.badge.${mode}`);
    const from = !source
      ? t("mode.source.default")
      : source === state.caller.unit
        ? t("mode.source.here")
        : t("mode.source.above", { unit: unitName(source) });
    badge.title = from;
    badge.setAttribute("aria-label", `${t(`mode.badge.${mode}`)} · ${from}`);
  }
}

function watchMode() {
  clearInterval(modeTimer);
  showMode();
  modeTimer = setInterval(showMode, MODE_REFRESH_MS);
}

function hideMode() {
  clearInterval(modeTimer);
  modeTimer = null;
  modeNow = null;
  const banner = document.getElementById("mode-banner");
  if (banner) banner.hidden = true;
}

function signOut(message = t("signin.signedout"), kind = "info") {
  api.forgetToken();
  state.caller = null;
  hideMode();
  stopBell();
  showSignIn(message, kind);
}

// --- the header -----------------------------------------------------------------------------

function renderHeader() {
  const header = document.getElementById("topbar");
  const who = state.caller
    ? `<div class="who" id="who" title="${esc(state.caller.name ? `${state.caller.name} · ${state.caller.sub}` : state.caller.sub || "")}">
         <span class="who-unit" id="who-unit">${esc(state.unit?.name ?? state.caller.unit)}</span>
         <span class="who-meta">${esc(name("tier", state.unit?.tier))} · ${esc(name("role", state.caller.role))}</span>
       </div>`
    : "";
  const nav = state.caller
    ? `<nav class="nav" aria-label="main">
         <a href="#/" data-nav="board">${esc(t("nav.board"))}</a>
         <a href="#/stats" data-nav="stats">${esc(t("nav.stats"))}</a>
         ${CLUE_READERS.includes(state.caller.role) ? `<a href="#/clues" data-nav="clues">${esc(t("nav.clues"))}</a>` : ""}
         ${SCREENING_READERS.includes(state.caller.role) ? `<a href="#/screening" data-nav="screening">${esc(t("nav.screening"))}</a>` : ""}
         ${INSPECTION_READERS.includes(state.caller.role) ? `<a href="#/inspections" data-nav="inspections">${esc(t("nav.inspections"))}</a>` : ""}
         ${KEY_PERSON_READERS.includes(state.caller.role) ? `<a href="#/key-persons" data-nav="key-persons">${esc(t("nav.keyPersons"))}</a>` : ""}
       </nav>`
    : "";
  header.innerHTML = `
    <a class="skip" href="#view">${esc(t("nav.skip"))}</a>
    <a class="brand" href="#/" aria-label="${esc(t("app.brand"))}">
      <span class="logo" aria-hidden="true">枫</span>
      <span class="brand-text"><strong>${esc(t("app.brand"))}</strong><small>${esc(t("app.subtitle"))}</small></span>
    </a>
    ${nav}
    <div class="spacer"></div>
    ${state.caller ? `<span class="mode-badge" id="mode-badge" role="status" hidden></span>` : ""}
    ${state.caller ? bellMarkup() : ""}
    ${who}
    <button type="button" class="ghost" id="lang-switch" lang="${lang() === "en" ? "zh-CN" : "en"}">${esc(t("nav.lang"))}</button>
    ${state.caller ? `<button type="button" class="ghost" id="sign-out">${esc(t("nav.signout"))}</button>` : ""}`;
  document.getElementById("lang-switch").addEventListener("click", () => {
    setLang(lang() === "en" ? "zh" : "en");
    document.title = t("app.title");
    if (state.caller) {
      renderHeader();
      route();
      showMode();
    } else {
      showSignIn();
    }
  });
  document.getElementById("sign-out")?.addEventListener("click", () => signOut());
  drawBell();
  drawMode();
  markNav();
}

function markNav() {
  const hash = location.hash;
  const current = hash.startsWith("#/stats")
    ? "stats"
    : hash.startsWith("#/inspections")
      ? "inspections"
      : hash.startsWith("#/clues")
        ? "clues"
        : hash.startsWith("#/key-persons")
          ? "key-persons"
        : hash.startsWith("#/screening")
          ? "screening"
        : hash.startsWith("#/cases/")
          ? ""
          : "board";
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// --- routes ---------------------------------------------------------------------------------

function stopPage() {
  if (state.cleanup) {
    try {
      state.cleanup();
    } finally {
      state.cleanup = null;
    }
  }
}

function route() {
  if (!state.caller) return;
  stopPage();
  markNav();
  const hash = location.hash || "#/";
  const container = view();
  container.innerHTML = "";
  let match;
  if ((match = /^#\/cases\/([0-9a-fA-F-]{36})$/.exec(hash))) {
    state.cleanup = renderCase(container, match[1]);
  } else if ((match = /^#\/stats(?:\/(\w+))?(?:\?.*)?$/.exec(hash))) {
    state.cleanup = renderStats(container, match[1] || state.caller.unit);
  } else if (hash === "#/inspections") {
    state.cleanup = renderInspections(container);
  } else if (hash === "#/key-persons") {
    state.cleanup = renderKeyPersons(container);
  } else if (hash === "#/screening") {
    state.cleanup = renderScreening(container);
  } else if (hash === "#/clues") {
    state.cleanup = renderClues(container);
  } else {
    state.cleanup = renderBoard(container);
  }
  window.scrollTo(0, 0);
}

// --- boot -----------------------------------------------------------------------------------

window.addEventListener("hashchange", route);
window.addEventListener("fengqiao:unauthorized", () => {
  if (state.caller) signOut(t("err.401"), "error");
});

setLang(lang());
document.title = t("app.title");
if (api.token()) {
  start().catch((problem) => {
    api.forgetToken();
    showSignIn(problem instanceof api.ApiError && problem.status === 401 ? t("signin.rejected") : errorText(problem));
  });
} else {
  showSignIn();
}
