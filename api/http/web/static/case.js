// The case page: details (personal data masked as the API answers), deadlines, the timeline,
// and the commands the caller's role allows, as small forms.

import * as api from "./api.js";
import { appState, unitName, unitPath } from "./app.js";
import {
  dueLabel,
  esc,
  formatNumber,
  formatSpan,
  formatTime,
  lang,
  localInputToIso,
  name,
  shanghaiLocalInput,
  t,
} from "./i18n.js";

// Who may send what (api/permissions.py COMMAND_ROLES); the server decides in the end.
const WORKERS = ["mediator", "supervisor", "admin"];
const APPROVERS = ["supervisor", "admin"];
const ANYONE = ["reporter", "mediator", "supervisor", "admin"];

const OPEN = ["registered", "signed", "in_mediation", "paused", "reopened"];
const WORKING = ["signed", "in_mediation", "reopened"];
const CONCLUDED = ["resolved", "terminated", "referred", "followed_up"];
const running = (c) => OPEN.includes(c.status) && c.status !== "paused";
const working = (c) => WORKING.includes(c.status) && !c.awaiting_signature;

const list = (text) =>
  String(text || "")
    .split(/[,，、;；\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

// Each action: who, when it usually applies (to put it first), its fields and its body.
const ACTIONS = [
  { key: "sign", roles: WORKERS, when: (c) => running(c) && c.awaiting_signature },
  { key: "resume", roles: WORKERS, when: (c) => c.status === "paused" },
  { key: "close", roles: WORKERS, when: (c) => c.status === "followed_up" },
  {
    key: "assign",
    roles: APPROVERS,
    when: (c) => OPEN.includes(c.status),
    fields: [{ name: "assignee", type: "text", required: true }],
    body: (f) => ({ assignee: f.assignee.trim() }),
  },
  {
    key: "assess",
    roles: WORKERS,
    when: running,
    fields: [
      { name: "level", label: "form.level", type: "select", options: ["red", "orange", "yellow"], group: "level", current: "level" },
      { name: "reason", type: "textarea", required: true },
      { name: "triggers", type: "text" },
    ],
    body: (f) => ({ level: f.level, reason: f.reason.trim(), triggers: list(f.triggers) }),
  },
  {
    key: "mediation-sessions",
    roles: WORKERS,
    when: working,
    fields: [
      { name: "held_at", label: "form.heldAt", type: "datetime-local", required: true, now: true },
      { name: "notes", type: "textarea", required: true },
      { name: "attendees", type: "text" },
    ],
    body: (f) => ({ held_at: localInputToIso(f.held_at), notes: f.notes.trim(), attendees: list(f.attendees) }),
  },
  {
    key: "resolve",
    roles: WORKERS,
    when: (c) => ["in_mediation", "reopened"].includes(c.status) && !c.awaiting_signature,
    fields: [
      { name: "agreement", type: "textarea", required: true },
      { name: "form", type: "select", options: ["written", "oral"], labels: { written: "form.written", oral: "form.oral" } },
      { name: "amount", type: "text", inputmode: "decimal", pattern: "\\d{1,12}(\\.\\d{1,2})?" },
    ],
    body: (f) => {
      const body = { agreement: f.agreement.trim(), form: f.form };
      if (f.amount.trim()) body.amount = f.amount.trim();
      return body;
    },
  },
  {
    key: "follow-ups",
    roles: WORKERS,
    when: (c) => CONCLUDED.includes(c.status),
    fields: [
      { name: "satisfied", type: "select", options: ["true", "false"], labels: { true: "form.yes", false: "form.no" } },
      {
        name: "agreement_honoured",
        label: "form.honoured",
        type: "select",
        options: ["", "true", "false"],
        labels: { "": "form.unknown", true: "form.yes", false: "form.no" },
      },
      { name: "note", type: "textarea" },
    ],
    body: (f) => ({
      satisfied: f.satisfied === "true",
      agreement_honoured: f.agreement_honoured === "" ? null : f.agreement_honoured === "true",
      note: f.note.trim(),
    }),
  },
  {
    key: "escalate",
    roles: APPROVERS,
    when: running,
    fields: [{ name: "reason", type: "textarea", required: true }],
    body: (f) => ({ reason: f.reason.trim() }),
  },
  {
    key: "terminate",
    roles: WORKERS,
    when: working,
    fields: [{ name: "reason", type: "textarea", required: true }],
    body: (f) => ({ reason: f.reason.trim() }),
  },
  {
    key: "referrals",
    roles: WORKERS,
    when: working,
    fields: [
      { name: "agency", type: "select", options: ["court", "police", "procuratorate", "petition_office"], group: "agency" },
      { name: "reason", type: "textarea", required: true },
    ],
    body: (f) => ({ agency: f.agency, reason: f.reason.trim() }),
  },
  {
    key: "referral-answers",
    roles: WORKERS,
    when: (c) => c.status === "referred",
    fields: [{ name: "answer", type: "textarea", required: true }],
    body: (f) => ({ answer: f.answer.trim() }),
  },
  {
    key: "judicial-confirmation",
    roles: WORKERS,
    when: (c) => ["resolved", "followed_up"].includes(c.status),
    fields: [{ name: "court", type: "text" }],
    body: (f) => (f.court.trim() ? { court: f.court.trim() } : {}),
  },
  {
    key: "ratings",
    roles: ANYONE,
    when: (c) => CONCLUDED.includes(c.status) || c.status === "closed",
    fields: [
      {
        name: "grade",
        type: "select",
        options: ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"],
        group: "grade",
      },
    ],
    body: (f) => ({ grade: f.grade }),
  },
  {
    key: "pause",
    roles: APPROVERS,
    when: running,
    fields: [{ name: "reason", type: "textarea", required: true }],
    body: (f) => ({ reason: f.reason.trim() }),
  },
  {
    key: "extend",
    roles: APPROVERS,
    when: running,
    fields: [
      { name: "kind", label: "form.deadlineKind", type: "select", options: ["resolve", "sign"], group: "due" },
      { name: "until", type: "datetime-local", required: true },
      { name: "reason", type: "textarea", required: true },
    ],
    body: (f) => ({ kind: f.kind, until: localInputToIso(f.until), reason: f.reason.trim() }),
  },
  {
    key: "lower",
    roles: APPROVERS,
    when: (c) => running(c) && c.level !== "yellow",
    fields: [
      { name: "level", label: "form.level", type: "select", options: ["orange", "yellow"], group: "level" },
      { name: "reason", type: "textarea", required: true },
    ],
    body: (f) => ({ level: f.level, reason: f.reason.trim() }),
  },
  {
    key: "reopen",
    roles: APPROVERS,
    when: (c) => CONCLUDED.includes(c.status) || c.status === "closed",
    fields: [{ name: "reason", type: "textarea", required: true }],
    body: (f) => ({ reason: f.reason.trim() }),
  },
  {
    key: "reject",
    roles: WORKERS,
    when: (c) => c.status === "registered",
    fields: [{ name: "reason", type: "textarea", required: true }],
    body: (f) => ({ reason: f.reason.trim() }),
  },
  {
    key: "notes",
    roles: ANYONE,
    when: () => true,
    fields: [{ name: "text", type: "textarea", required: true }],
    body: (f) => ({ text: f.text.trim() }),
  },
];

const EVENT_TONE = {
  Registered: "info",
  Signed: "ok",
  Resolved: "ok",
  Closed: "ok",
  FollowUpRecorded: "ok",
  Escalated: "warn",
  LevelRaised: "warn",
  ClockFired: "warn",
  Terminated: "muted",
  Rejected: "muted",
  Reopened: "warn",
};

export function renderCase(container, caseId) {
  const state = appState();
  let current = null;
  let stopped = false;

  container.innerHTML = `
    <section class="case-page">
      <a class="back" href="#/">${esc(t("case.back"))}</a>
      <div id="case-body" aria-busy="true"><p class="muted">${esc(t("case.loading"))}</p></div>
    </section>`;
  const body = container.querySelector("#case-body");

  async function load(sent = null) {
    try {
      const [kase, history] = await Promise.all([
        api.get(`/cases/${caseId}`),
        api.get(`/cases/${caseId}/history`),
      ]);
      if (stopped) return;
      const first = current === null;
      current = kase;
      if (first) layout();
      drawDetails(kase);
      drawTimeline(history);
      drawActions(kase, sent);
      tick();
    } catch (error) {
      if (stopped) return;
      if (current === null) {
        body.innerHTML = `<p class="banner banner-error" role="alert">${esc(api.errorText(error))}</p>`;
      } else {
        message(api.errorText(error), "error");
      }
    }
  }

  function layout() {
    body.setAttribute("aria-busy", "false");
    body.innerHTML = `
      <div class="case-grid">
        <div class="case-main">
          <div id="case-head"></div>
          <section class="panel" aria-labelledby="details-title">
            <h2 id="details-title">${esc(t("case.details"))}</h2>
            <div id="case-details"></div>
          </section>
          <section class="panel" aria-labelledby="deadlines-title">
            <h2 id="deadlines-title">${esc(t("case.deadlines"))}</h2>
            <div id="case-deadlines"></div>
          </section>
          <section class="panel" aria-labelledby="parties-title">
            <h2 id="parties-title">${esc(t("case.parties"))}</h2>
            <div id="case-parties"></div>
          </section>
        </div>
        <aside class="case-side">
          <section class="panel actions-panel" aria-labelledby="actions-title">
            <h2 id="actions-title">${esc(t("case.actions"))}</h2>
            <div class="action-message" id="action-message" role="alert" aria-live="assertive" hidden></div>
            <div id="case-actions"></div>
          </section>
          <section class="panel" aria-labelledby="timeline-title">
            <h2 id="timeline-title">${esc(t("case.timeline"))}</h2>
            <ol class="timeline" id="case-timeline"></ol>
          </section>
        </aside>
      </div>`;
  }

  function drawDetails(c) {
    const flags = c.flags.map((f) => `<span class="flag">${esc(name("flag", f))}</span>`).join("");
    body.querySelector("#case-head").innerHTML = `
      <header class="case-head lvl-${esc(c.level)}">
        <div class="case-badges">
          <span class="pill lvl-${esc(c.level)}">${esc(name("level", c.level))}${lang() === "en" ? "" : "预警"}</span>
          <span class="status st-${esc(c.status)}" id="case-status" data-status="${esc(c.status)}">${esc(name("status", c.status))}</span>
          <span class="muted">${esc(name("kind", c.kind))} · ${esc(c.category)}</span>
          ${flags}
        </div>
        <h1 class="case-title">${esc(c.summary)}</h1>
        <p class="muted small mono">${esc(c.id)} · ${esc(t("case.version"))} <span id="case-version">${c.version}</span></p>
      </header>`;
    const rows = [
      [t("case.location"), unitPath(c.unit)],
      [t("case.owner"), `${unitName(c.owner)} · ${name("tier", c.tier)}`],
      [t("case.assignee"), c.assignee || t("board.unassigned")],
      [t("case.channel"), name("channel", c.channel)],
      [t("case.people"), t("case.people.n", { n: formatNumber(c.people_involved) })],
      [t("case.amount"), c.amount_involved ? `${formatNumber(Number(c.amount_involved))} ${t("case.yuan")}` : "—"],
      [t("case.registered"), formatTime(c.registered_at)],
      [t("case.updated"), formatTime(c.updated_at)],
      [t("case.policy"), c.policy_version],
    ];
    body.querySelector("#case-details").innerHTML = `<dl class="facts">${rows
      .map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`)
      .join("")}</dl>`;
    body.querySelector("#case-deadlines").innerHTML = c.deadlines.length
      ? `<ul class="deadlines">${c.deadlines
          .map(
            (d) => `<li class="${d.overdue ? "late" : ""}">
              <span class="dl-kind">${esc(dueLabel(d.kind))}</span>
              <span class="dl-at">${esc(formatTime(d.due_at))}</span>
              <time class="countdown" data-due="${esc(d.due_at)}" datetime="${esc(d.due_at)}"></time>
            </li>`,
          )
          .join("")}</ul>`
      : `<p class="muted">${esc(t("case.noDeadlines"))}</p>`;
    body.querySelector("#case-parties").innerHTML = c.parties.length
      ? `<div class="table-wrap"><table class="parties">
          <thead><tr><th>${esc(t("case.partyName"))}</th><th>${esc(t("case.partyRole"))}</th>
            <th>${esc(t("case.idNumber"))}</th><th>${esc(t("case.phone"))}</th><th>${esc(t("case.address"))}</th></tr></thead>
          <tbody>${c.parties
            .map(
              (p) => `<tr><td>${esc(p.name)}</td><td>${esc(name("partyRole", p.role))}</td>
                <td class="mono">${esc(p.id_number || "—")}</td><td class="mono">${esc(p.phone || "—")}</td>
                <td>${esc(p.address || "—")}</td></tr>`,
            )
            .join("")}</tbody></table></div>
         <p class="muted small">${esc(t("case.masked"))}</p>`
      : `<p class="muted">${esc(t("case.noParties"))}</p>`;
  }

  function withNames(text) {
    return esc(text).replace(/\b\d{6,15}\b/g, (code) => (state.units.has(code) ? esc(unitName(code)) : code));
  }

  function drawTimeline(history) {
    const entries = [...history].reverse();
    body.querySelector("#case-timeline").innerHTML = entries
      .map(
        (e) => `<li class="tl tone-${EVENT_TONE[e.event_type] || "plain"}" data-event="${esc(e.event_type)}">
          <div class="tl-head"><strong>${esc(name("event", e.event_type))}</strong>
            <time datetime="${esc(e.at)}">${esc(formatTime(e.at))}</time></div>
          <div class="tl-who">${esc(e.actor)} · ${esc(name("role", e.role))} · v${e.version}</div>
          <div class="tl-text">${withNames(e.text)}</div>
        </li>`,
      )
      .join("");
  }

  // What the caller had open or typed survives a redraw, except the form just sent.
  function remember(box, sent) {
    const kept = new Map();
    for (const element of box.querySelectorAll("details.action[open]")) {
      if (element.dataset.action === sent) continue;
      const values = {};
      for (const field of element.querySelectorAll("input, select, textarea")) values[field.name] = field.value;
      kept.set(element.dataset.action, values);
    }
    const more = box.querySelector(".more-actions")?.open ?? false;
    return { kept, more };
  }

  function restore(box, { kept, more }) {
    const details = box.querySelector(".more-actions");
    if (details && more) details.open = true;
    for (const [key, values] of kept) {
      const element = box.querySelector(`details.action[data-action="${key}"]`);
      if (!element) continue;
      element.open = true;
      for (const field of element.querySelectorAll("input, select, textarea")) {
        if (field.name in values) field.value = values[field.name];
      }
    }
  }

  function drawActions(c, sent = null) {
    const box = body.querySelector("#case-actions");
    const memory = remember(box, sent);
    const mine = ACTIONS.filter((a) => a.roles.includes(state.caller.role));
    if (!mine.length) {
      box.innerHTML = `<p class="muted">${esc(t("case.noActions"))}</p>`;
      return;
    }
    const likely = mine.filter((a) => a.when(c));
    const others = mine.filter((a) => !a.when(c));
    box.innerHTML = `
      <div class="actions">${likely.map(actionHtml).join("")}</div>
      ${others.length ? `<details class="more-actions"><summary>${esc(t("case.moreActions"))}</summary>
        <div class="actions">${others.map(actionHtml).join("")}</div></details>` : ""}`;
    for (const element of box.querySelectorAll("[data-action]")) wire(element);
    restore(box, memory);
  }

  function fieldHtml(action, field) {
    const id = `f-${action.key}-${field.name}`;
    const label = t(field.label || `form.${field.name}`);
    const required = field.required ? "required" : "";
    let control;
    if (field.type === "select") {
      control = `<select id="${id}" name="${field.name}">${field.options
        .map((option) => {
          const text = field.labels ? t(field.labels[option]) : name(field.group, option);
          const selected = field.current && current[field.current] === option ? "selected" : "";
          return `<option value="${esc(option)}" ${selected}>${esc(text)}</option>`;
        })
        .join("")}</select>`;
    } else if (field.type === "textarea") {
      control = `<textarea id="${id}" name="${field.name}" rows="2" ${required}></textarea>`;
    } else {
      const value = field.now ? `value="${esc(shanghaiLocalInput())}"` : "";
      const extra = `${field.inputmode ? `inputmode="${field.inputmode}"` : ""} ${field.pattern ? `pattern="${field.pattern}"` : ""}`;
      control = `<input id="${id}" name="${field.name}" type="${field.type}" ${value} ${extra} ${required}>`;
    }
    return `<label for="${id}">${esc(label)}</label>${control}`;
  }

  function actionHtml(action) {
    const label = t(`action.${action.key}`);
    if (!action.fields) {
      return `<button type="button" class="action-button" data-action="${action.key}">${esc(label)}</button>`;
    }
    return `<details class="action" data-action="${action.key}">
      <summary>${esc(label)}</summary>
      <form class="action-form" novalidate>
        ${action.fields.map((f) => fieldHtml(action, f)).join("")}
        <button type="submit" class="primary">${esc(label)}</button>
      </form>
    </details>`;
  }

  function wire(element) {
    const action = ACTIONS.find((a) => a.key === element.dataset.action);
    if (!action.fields) {
      element.addEventListener("click", () => send(action, null, element));
      return;
    }
    const form = element.querySelector("form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const missing = [...form.elements].find((el) => el.required && !el.value.trim());
      if (missing) {
        message(t("err.field", { field: name("field", missing.name), reason: t("form.required") }), "error");
        missing.focus();
        return;
      }
      const bad = [...form.elements].find((el) => el.pattern && el.value.trim() && !new RegExp(`^(?:${el.pattern})$`).test(el.value.trim()));
      if (bad) {
        message(t("err.field", { field: name("field", bad.name), reason: bad.value }), "error");
        bad.focus();
        return;
      }
      const values = Object.fromEntries(new FormData(form).entries());
      send(action, action.body(values), form.querySelector("button[type=submit]"));
    });
  }

  async function send(action, payload, button) {
    const label = t(`action.${action.key}`);
    button.disabled = true;
    message("", "");
    try {
      await api.command(caseId, action.key, payload, current.version);
      await load(action.key);
      message(t("case.done", { action: label }), "ok");
    } catch (error) {
      if (error instanceof api.ApiError && error.problem?.current_version !== undefined) await load();
      message(api.errorText(error, action.key), "error", error);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  }

  function message(text, kind, error) {
    const box = body.querySelector("#action-message");
    if (!box) return;
    box.hidden = !text;
    box.className = `action-message ${kind ? `msg-${kind}` : ""}`;
    box.dataset.kind = kind || "";
    const raw = error instanceof api.ApiError && lang() !== "en" ? error.problem?.detail : "";
    box.innerHTML = text
      ? `<span>${esc(text)}</span>${raw ? `<small class="raw">${esc(t("err.server.detail", { detail: raw }))}</small>` : ""}`
      : "";
    if (text) box.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function tick() {
    for (const clock of body.querySelectorAll("time.countdown")) {
      const remaining = (Date.parse(clock.dataset.due) - Date.now()) / 1000;
      const late = remaining < 0;
      const span = formatSpan(remaining);
      clock.textContent = late
        ? `${t("board.overdueBy")} ${span}`
        : lang() === "en"
          ? `${span} ${t("board.left")}`
          : `${t("board.left")} ${span}`;
      clock.classList.toggle("late", late);
    }
  }
  const ticker = setInterval(tick, 1000);

  load();
  return () => {
    stopped = true;
    clearInterval(ticker);
  };
}
