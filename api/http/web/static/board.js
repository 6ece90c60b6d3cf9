// The escalation board: the caller's subtree queue as red/orange/yellow cards, grouped by
// owning tier or by level, kept live by the queue stream (or by polling when it is missing).

import * as api from "./api.js";
import { appState, refreshMode, unitName, unitPath } from "./app.js";
import { dueLabel, esc, formatClock, formatSpan, formatTime, lang, name, t } from "./i18n.js";

const GROUPING_KEY = "fengqiao.grouping";
const LIMIT = 500;
const POLL_MS = 1000;
const STREAM_GRACE_MS = 3000; // poll if the stream has not said "ready" by then
const SAFETY_REFRESH_MS = 60000;
const TIER_HEIGHT = { grid: 0, village: 1, township: 2, county: 3, city: 4 };
const LEVELS = ["red", "orange", "yellow"];
// who reads the staff directory, and so sees what a disabled member left behind
const STAFF_READERS = ["supervisor", "admin"];
const LEFT_BEHIND_MS = 60000;
const FRONTLINE = [
  { roles: ["supervisor", "mediator", "auditor", "admin"], path: (u) => `/screening/missing?unit=${encodeURIComponent(u)}`, href: "#/screening", words: "board.screeningMissing" },
  { roles: ["supervisor", "mediator", "reporter", "auditor", "admin"], path: (u) => `/clues?unit=${encodeURIComponent(u)}&status=overdue`, href: "#/clues", words: "board.cluesOverdue" },
  { roles: ["supervisor", "auditor"], path: (u) => `/key-persons?unit=${encodeURIComponent(u)}&state=visit_overdue`, href: "#/key-persons", words: "board.visitsOverdue" },
];

export function renderBoard(container) {
  const state = appState();
  const unit = state.caller.unit;
  let grouping = localStorage.getItem(GROUPING_KEY) === "level" ? "level" : "tier";
  let queue = null; // the last answer
  let offset = 0; // server clock − this clock, in ms
  let known = null; // id → group key, to mark new and moved cards
  let mode = "connecting";
  let inflight = null;
  let again = false;
  let stopped = false;
  let pollTimer = null;
  let lastError = null;

  container.innerHTML = `
    <section class="board" aria-labelledby="board-title">
      <div class="page-head">
        <div>
          <h1 id="board-title">${esc(t("board.title"))}<span class="title-unit"><span class="sep"> · </span>${esc(state.unit.name)}</span></h1>
          <p class="summary-line" id="board-summary" aria-live="polite"></p>
        </div>
        <div class="head-tools">
          <div class="segmented" role="group" aria-label="${esc(t("board.group"))}">
            <button type="button" data-grouping="tier">${esc(t("board.byTier"))}</button>
            <button type="button" data-grouping="level">${esc(t("board.byLevel"))}</button>
          </div>
          <span class="live" id="live" data-mode="connecting"><span class="dot" aria-hidden="true"></span><span id="live-text"></span></span>
        </div>
      </div>
      <p class="banner banner-error" id="board-error" role="alert" hidden></p>
      <p class="frontline" id="frontline" aria-live="polite" hidden></p>
      <section class="panel left-behind" id="left-behind" aria-labelledby="left-behind-title" hidden></section>
      <div class="columns" id="columns" aria-busy="true"></div>
    </section>`;

  const columns = container.querySelector("#columns");
  for (const button of container.querySelectorAll("[data-grouping]")) {
    button.addEventListener("click", () => {
      grouping = button.dataset.grouping;
      localStorage.setItem(GROUPING_KEY, grouping);
      known = null; // a regrouping is not news
      draw();
    });
  }

  function setMode(next) {
    mode = next;
    const live = container.querySelector("#live");
    live.dataset.mode = mode;
    const stamp = queue ? ` · ${t("board.updated", { time: formatClock(new Date()) })}` : "";
    container.querySelector("#live-text").textContent = t(`board.live.${mode}`) + stamp;
  }

  // --- the queue ---------------------------------------------------------------------------

  async function refresh() {
    if (stopped) return;
    if (inflight) {
      again = true;
      return inflight;
    }
    inflight = (async () => {
      refreshMode(); // the badge in the header: the mode in force where the caller works
      try {
        const sent = Date.now();
        const answer = await api.get(`/queues/${encodeURIComponent(unit)}?limit=${LIMIT}`);
        const received = Date.now();
        if (stopped) return;
        const serverNow = Date.parse(answer.now);
        if (!Number.isNaN(serverNow)) offset = serverNow - (sent + received) / 2;
        queue = answer;
        lastError = null;
        if (mode === "offline") mode = "polling";
        draw();
      } catch (error) {
        lastError = error;
        if (mode === "polling") setMode("offline");
        showError();
      } finally {
        inflight = null;
      }
      if (again && !stopped) {
        again = false;
        await refresh();
      }
    })();
    return inflight;
  }

  function showError() {
    const banner = container.querySelector("#board-error");
    if (!banner) return;
    banner.hidden = !lastError;
    banner.textContent = lastError ? api.errorText(lastError) : "";
  }

  function groupsFor(items) {
    if (grouping === "level") {
      return LEVELS.map((level) => ({
        key: level,
        title: `${name("level", level)}${lang() === "en" ? "" : "预警"}`,
        css: `lvl-${level}`,
        items: items.filter((item) => item.level === level),
      }));
    }
    const mine = TIER_HEIGHT[state.unit.tier] ?? 3;
    const tiers = ["county", "township", "village"].filter((tier) => TIER_HEIGHT[tier] <= mine);
    for (const item of items) if (!tiers.includes(item.tier)) tiers.push(item.tier);
    tiers.sort((a, b) => (TIER_HEIGHT[b] ?? -1) - (TIER_HEIGHT[a] ?? -1));
    return tiers.map((tier) => ({
      key: tier,
      title: name("tierGroup", tier) || name("tier", tier),
      css: `tier-${tier}`,
      items: items.filter((item) => item.tier === tier),
    }));
  }

  function draw() {
    if (!queue) return;
    showError();
    for (const button of container.querySelectorAll("[data-grouping]")) {
      button.setAttribute("aria-pressed", String(button.dataset.grouping === grouping));
    }
    const items = queue.items;
    const overdue = items.filter((item) => isOverdue(item)).length;
    const counts = LEVELS.map(
      (level) =>
        `<span class="chip lvl-${level}"><b>${items.filter((i) => i.level === level).length}</b> ${esc(name("levelShort", level))}</span>`,
    ).join("");
    container.querySelector("#board-summary").innerHTML = `
      <span class="chip chip-total">${esc(t("board.total", { n: items.length }))}</span>${counts}
      <span class="chip chip-overdue${overdue ? " has" : ""}">${esc(t("board.overdue", { n: overdue }))}</span>
      ${items.length >= LIMIT ? `<span class="muted">${esc(t("board.truncated", { n: LIMIT }))}</span>` : ""}`;

    const groups = groupsFor(items);
    const previous = known;
    known = new Map();
    columns.className = `columns columns-${groups.length}`;
    columns.innerHTML = groups
      .map(
        (group) => `
        <section class="column ${group.css}" data-group="${esc(group.key)}" aria-label="${esc(group.title)}">
          <h2 class="column-head"><span>${esc(group.title)}</span>
            <span class="count" title="${esc(t("board.total", { n: group.items.length }))}">${group.items.length}</span></h2>
          <div class="cards">
            ${group.items.length ? group.items.map((item) => card(item, group.key, previous)).join("") : `<p class="empty">${esc(t("board.empty"))}</p>`}
          </div>
        </section>`,
      )
      .join("");
    for (const group of groups) for (const item of group.items) known.set(item.id, group.key);
    if (!items.length) {
      columns.insertAdjacentHTML("afterbegin", `<p class="all-clear">${esc(t("board.allClear"))}</p>`);
    }
    columns.setAttribute("aria-busy", "false");
    tick();
    setMode(mode);
  }

  function card(item, groupKey, previous) {
    const fresh = previous && previous.get(item.id) !== groupKey;
    const flags = item.flags
      .map((flag) => `<span class="flag flag-${esc(flag)}" data-flag="${esc(flag)}">${esc(name("flag", flag))}</span>`)
      .join("");
    const owner = `${unitName(item.owner)} · ${name("tier", item.tier)}`;
    const clock = item.due_at
      ? `<span class="clock-label">${esc(dueLabel(item.due_kind))}</span>
         <time class="countdown" data-due="${esc(item.due_at)}" datetime="${esc(item.due_at)}"
           title="${esc(formatTime(item.due_at))}"></time>`
      : `<span class="clock-label">${esc(t("board.noDeadline"))}</span>`;
    return `
      <article class="card lvl-${esc(item.level)}${isOverdue(item) ? " overdue" : ""}${fresh ? " fresh" : ""}"
        data-id="${esc(item.id)}" data-level="${esc(item.level)}" data-tier="${esc(item.tier)}"
        data-status="${esc(item.status)}" data-version="${item.version}">
        <div class="card-top">
          <span class="pill lvl-${esc(item.level)}">${esc(name("level", item.level))}</span>
          ${causeMark(item)}
          ${item.repeat ? `<span class="badge badge-repeat" data-badge="repeat" title="${esc(t("board.repeatTitle"))}">${esc(t("board.repeat"))}</span>` : ""}
          ${item.key_person ? `<span class="badge badge-key-person" data-badge="key_person" title="${esc(t("board.keyPersonTitle"))}">${esc(t("board.keyPerson"))}</span>` : ""}
          ${statusPill(item)}
          <span class="card-kind">${esc(name("kind", item.kind))} · ${esc(item.category)}</span>
        </div>
        ${item.number ? `<p class="card-number mono">${esc(item.number)}</p>` : ""}
        <h3 class="card-summary"><a href="#/cases/${esc(item.id)}">${esc(item.summary)}</a></h3>
        <dl class="card-facts">
          <div><dt>${esc(t("board.location"))}</dt><dd class="loc">${esc(unitPath(item.unit))}</dd></div>
          <div><dt>${esc(t("board.owner"))}</dt><dd class="owner">${esc(owner)}</dd></div>
          <div><dt>${esc(t("board.assignee"))}</dt><dd>${item.assignee ? esc(item.assignee) : `<span class="muted">${esc(t("board.unassigned"))}</span>`}</dd></div>
        </dl>
        <div class="card-clock">${clock}${flags}</div>
      </article>`;
  }

  // Why the card has its colour, when it is not the level the registration gave: raised by
  // the risk triggers (触发指标) or by a missed deadline (逾期升级, a noise complaint turned
  // red by time, not by danger), assessed, raised or lowered by hand.
  function causeMark(item) {
    const cause = item.level_cause;
    if (!cause || cause === "registered") return "";
    const title = t("board.causeTitle", { cause: name("levelCause", cause) });
    return `<span class="cause-mark cause-${esc(cause)}" data-cause="${esc(cause)}" title="${esc(title)}">${esc(name("levelCauseMark", cause))}</span>`;
  }

  // A case handed to a new owner (an escalation, a return) waits for its signature whatever
  // its status: the card says 待签收, and its clock is the sign-for deadline.
  function statusPill(item) {
    // a paused case says so first: its clock is the review date, not the signature
    if (item.awaiting_signature && item.status === "paused") {
      return `<span class="status st-paused">${esc(name("status", item.status))}</span>
        <span class="status st-registered" data-awaiting="true">${esc(t("board.awaiting"))}</span>`;
    }
    if (item.awaiting_signature) {
      return `<span class="status st-registered" data-awaiting="true" title="${esc(name("status", item.status))}">${esc(t("board.awaiting"))}</span>`;
    }
    return `<span class="status st-${esc(item.status)}">${esc(name("status", item.status))}</span>`;
  }

  function isOverdue(item) {
    if (item.overdue) return true;
    return Boolean(item.due_at) && Date.parse(item.due_at) < Date.now() + offset;
  }

  // --- the countdowns ---------------------------------------------------------------------

  function tick() {
    const now = Date.now() + offset;
    for (const clock of columns.querySelectorAll("time.countdown")) {
      const remaining = (Date.parse(clock.dataset.due) - now) / 1000;
      const late = remaining < 0;
      const span = formatSpan(remaining);
      clock.textContent = late
        ? `${t("board.overdueBy")} ${span}`
        : lang() === "en"
          ? `${span} ${t("board.left")}`
          : `${t("board.left")} ${span}`;
      clock.classList.toggle("late", late);
      const cardElement = clock.closest(".card");
      if (late && !cardElement.classList.contains("overdue")) cardElement.classList.add("overdue");
    }
  }
  const ticker = setInterval(tick, 1000);

  // --- live updates: the stream first, polling when it is not there ------------------------

  function startPolling() {
    if (pollTimer || stopped) return;
    pollTimer = setInterval(refresh, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  const grace = setTimeout(() => {
    if (mode !== "stream") {
      setMode("polling");
      startPolling();
    }
  }, STREAM_GRACE_MS);

  const stream = api.openQueueStream(unit, {
    onOpen() {
      stopPolling();
      setMode("stream");
      refresh(); // whatever happened while it was closed
    },
    onEvent(type) {
      if (type === "queue" || type === "message") refresh();
    },
    onDown() {
      setMode("polling");
      startPolling();
    },
  });
  const safety = setInterval(refresh, SAFETY_REFRESH_MS);

  // --- 停用人员名下在办案件: a disabled member's cases stay theirs until reassigned ------------

  async function leftBehind() {
    if (!STAFF_READERS.includes(state.caller.role) || stopped) return;
    const box = container.querySelector("#left-behind");
    try {
      const gone = await api.get("/users?active=false&limit=1000");
      const members = gone.items.filter((m) => m.open_cases > 0);
      const cases = await Promise.all(members.map((m) => api.get(`/users/${encodeURIComponent(m.user)}/cases?limit=50`)));
      if (stopped || !box) return;
      box.hidden = !members.length;
      box.innerHTML = members.length
        ? `<h2 id="left-behind-title">${esc(t("board.leftBehind"))}</h2>
          <p class="muted small">${esc(t("board.leftBehindHint"))}</p>
          <ul class="left-behind-list">${members
            .map(
              (m, i) => `<li data-user="${esc(m.user)}">
                <strong>${esc(m.name)}</strong> <span class="muted">${esc(m.user)} · ${esc(unitName(m.unit))}</span>
                <span class="left-behind-count">${esc(t("board.leftBehindCount", { count: m.open_cases }))}</span>
                ${cases[i].items.map((c) => `<a href="#/cases/${encodeURIComponent(c.id)}">${esc(c.number || c.id.slice(0, 8))}</a>`).join(" ")}
              </li>`,
            )
            .join("")}</ul>`
        : "";
    } catch {
      // an extra on the board: the queue goes on without it, and the next round asks again
    }
  }
  const leftTimer = setInterval(leftBehind, LEFT_BEHIND_MS);
  leftBehind();

  // --- 前端排查: what waits outside the case queue — villages' missing screening reports,
  // clues past their triage deadline, key persons whose visit is overdue — each a link to its
  // page, shown only when there is something and the caller may read it.

  async function frontline() {
    const box = container.querySelector("#frontline");
    const role = state.caller.role;
    const asks = FRONTLINE.filter((ask) => ask.roles.includes(role));
    const counts = await Promise.all(
      asks.map((ask) =>
        api.get(ask.path(unit)).then(
          (answer) => answer.items.length,
          () => 0, // an extra on the board: a refusal or a failure shows nothing
        ),
      ),
    );
    if (stopped || !box) return;
    const shown = asks.map((ask, i) => [ask, counts[i]]).filter(([, n]) => n > 0);
    box.hidden = !shown.length;
    box.innerHTML = shown
      .map(([ask, n]) => `<a class="chip chip-frontline" href="${ask.href}">${esc(t(ask.words, { n }))}</a>`)
      .join("");
  }
  const frontTimer = setInterval(frontline, SAFETY_REFRESH_MS);
  frontline();

  setMode("connecting");
  refresh();

  return () => {
    stopped = true;
    stream.close();
    stopPolling();
    clearTimeout(grace);
    clearInterval(ticker);
    clearInterval(safety);
    clearInterval(leftTimer);
    clearInterval(frontTimer);
  };
}
