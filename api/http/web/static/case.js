// The case page: details (personal data masked as the API answers), deadlines, the case file
// (一案一档: every event with what it recorded, in the reader's language), the attachments
// with a camera upload, and the commands the caller's role allows, as small forms.

import * as api from "./api.js";
import { appState, unitName, unitPath } from "./app.js";
import {
  dueLabel,
  esc,
  fieldName,
  fieldText,
  formatNumber,
  formatSize,
  formatSpan,
  formatTime,
  formatYuan,
  formatZoned,
  lang,
  localInputToIso,
  name,
  shanghaiLocalInput,
  t,
  timelineHtml,
  triggersText,
} from "./i18n.js";
import { headerCell, partyCells, wireFlagParty } from "./flag_party.js";

// Who may send what (api/permissions.py COMMAND_ROLES); the server decides in the end.
const WORKERS = ["mediator", "supervisor", "admin"];
const APPROVERS = ["supervisor", "admin"];
const ANYONE = ["reporter", "mediator", "supervisor", "admin"];

// Where the sender must sit (domain/case/commands.py Scope): the owning unit works the case,
// a unit above it orders 督办 or takes it over, anyone who may read it adds to the record.
const OWNER = "owner";
const ABOVE = "above";
const RECORD = "record";
const INSPECT = "inspection"; // 督查回访: an inspector of the county or city over the location
const DAY_MS = 86400000;

const OPEN = ["registered", "signed", "in_mediation", "paused", "reopened"];
const WORKING = ["signed", "in_mediation", "reopened"];
const CONCLUDED = ["resolved", "terminated", "referred", "followed_up"];
const running = (c) => OPEN.includes(c.status) && c.status !== "paused";
const supervised = (c) => c.flags.includes("supervised");
// referred out and waiting for the agency's answer (转办待复)
const awaitingAnswer = (c) => c.status === "referred" && (c.flags.includes("referral_pending") || c.flags.includes("referral_overdue"));
// referred here by another body that has not been told the result yet
const toReportBack = (c) => Boolean(c.referral_in) && !c.referral_in.reported_back;
// concluded, and not still waiting for the agency a referral went to
const concluded = (c) => CONCLUDED.includes(c.status) && !awaitingAnswer(c);
const LEVEL_RANK = { yellow: 0, orange: 1, red: 2 };
const below = (level, suggested) => Boolean(suggested) && LEVEL_RANK[level] < LEVEL_RANK[suggested];
const working = (c) => WORKING.includes(c.status) && !c.awaiting_signature;

const list = (text) =>
  String(text || "")
    .split(/[,，、;；\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

// Each action: who, where they sit (``scope``, the owner's by default), when it usually
// applies (to put it first), whether it is offered at all (``only``), its fields and its body.
const ACTIONS = [
  { key: "sign", roles: WORKERS, when: (c) => running(c) && c.awaiting_signature },
  { key: "resume", roles: WORKERS, when: (c) => c.status === "paused" },
  {
    key: "close",
    roles: WORKERS,
    when: (c) => c.status === "followed_up",
    // needed, from a supervisor, when the last follow-up visit was troubled
    fields: [{ name: "reason", type: "textarea" }],
    body: (f) => (f.reason.trim() ? { reason: f.reason.trim() } : {}),
  },
  {
    key: "assign",
    roles: APPROVERS,
    when: (c) => OPEN.includes(c.status),
    // the owning unit's active mediators, by name (名单内在岗调解员): nobody else may be assigned
    fields: [{ name: "assignee", type: "select", required: true, mediators: true }],
    body: (f) => ({ assignee: f.assignee }),
  },
  {
    key: "assess",
    roles: WORKERS,
    when: running,
    // the risk facts as they stand, to correct; the policy's triggers suggest a level on them,
    // and a level below the suggestion needs its own reason (asked for when the case's
    // suggestion is higher, or when the server says the corrected facts make it so)
    fields: [
      { name: "level", label: "form.level", type: "select", options: ["red", "orange", "yellow"], group: "level", current: "level" },
      { name: "reason", type: "textarea", required: true },
      { name: "triggers", type: "text" },
      { name: "people_involved", label: "form.people", type: "text", inputmode: "numeric", pattern: "\\d{1,7}", current: "people_involved" },
      { name: "amount_involved", label: "form.amountInvolved", type: "text", inputmode: "decimal", pattern: "\\d{1,12}(\\.\\d{1,2})?", current: "amount_involved" },
      { name: "police_callouts", label: "form.policeCallouts", type: "text", inputmode: "numeric", pattern: "\\d{1,4}", current: "police_callouts" },
      {
        name: "below_suggestion_reason",
        label: "form.belowSuggestion",
        type: "textarea",
        required: true,
        shown: (v, c, asked) => asked || below(v.level, c.suggested_level),
        hint: (c) => (c.suggested_level && c.suggested_level !== "yellow" ? t("form.suggestedNow", { level: name("level", c.suggested_level), triggers: triggersText(c.risk_triggers) }) : ""),
      },
    ],
    body: (f, c) => {
      const body = { level: f.level, reason: f.reason.trim(), triggers: list(f.triggers) };
      // a fact is sent only when it corrects what the case says
      const people = (f.people_involved ?? "").trim();
      if (people && Number(people) !== c.people_involved) body.people_involved = Number(people);
      const amount = (f.amount_involved ?? "").trim();
      if (amount && Number(amount) !== Number(c.amount_involved ?? NaN)) body.amount_involved = amount;
      const callouts = (f.police_callouts ?? "").trim();
      if (callouts && Number(callouts) !== c.police_callouts) body.police_callouts = Number(callouts);
      const why = (f.below_suggestion_reason ?? "").trim();
      if (why) body.below_suggestion_reason = why;
      return body;
    },
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
      { name: "performance_due", label: "form.performanceDue", type: "date" },
    ],
    body: (f) => {
      const body = { agreement: f.agreement.trim(), form: f.form };
      if (f.amount.trim()) body.amount = f.amount.trim();
      if (f.performance_due) body.performance_due = f.performance_due;
      return body;
    },
  },
  {
    key: "follow-ups",
    roles: WORKERS,
    when: concluded,
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
    key: "return",
    roles: APPROVERS,
    when: (c) => running(c) && c.awaiting_signature,
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
    // the agency's answer: 已受理 under its case number, 不予受理 (back to work), 已处理完毕
    key: "referral-answers",
    roles: WORKERS,
    when: awaitingAnswer,
    fields: [
      {
        name: "outcome",
        type: "select",
        options: ["accepted", "declined", "concluded"],
        group: "referralOutcome",
      },
      { name: "reference", type: "text", required: true, maxlength: 100, shown: (v) => v.outcome === "accepted" },
      {
        name: "answer",
        label: (v) => ({ declined: "form.declineReason", concluded: "form.referralConcluded" })[v.outcome] || "form.referralAnswer",
        type: "textarea",
        required: true,
      },
    ],
    body: (f) => {
      const body = { answer: f.answer.trim(), outcome: f.outcome };
      if (f.outcome === "accepted") body.reference = f.reference.trim();
      return body;
    },
  },
  {
    // what the agency that accepted the referral finally did with it
    key: "referral-results",
    roles: WORKERS,
    when: () => true,
    only: (c, caller, known) => known.resultDue,
    fields: [{ name: "result", type: "textarea", required: true }],
    body: (f) => ({ result: f.result.trim() }),
  },
  {
    // 反馈: the result sent back to the body that referred the case here
    key: "report-back",
    roles: WORKERS,
    when: (c) => CONCLUDED.includes(c.status) || ["closed", "rejected"].includes(c.status),
    only: toReportBack,
    fields: [{ name: "result", label: "form.reportBack", type: "textarea", required: true }],
    body: (f) => ({ result: f.result.trim() }),
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
    scope: RECORD, // a record of what the public said, taken by whoever reads the case
    when: (c) => concluded(c) || c.status === "closed",
    fields: [
      {
        name: "grade",
        type: "select",
        options: ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"],
        group: "grade",
      },
      // how staff took it: a party's own link is theirs alone; whoever handled the case may not
      { name: "channel", type: "select", options: ["phone_callback", "visit", "hotline", "walk_in"], group: "ratingChannel" },
      { name: "comment", type: "textarea", maxlength: 500 },
    ],
    body: (f) => {
      const body = { grade: f.grade, channel: f.channel };
      if (f.comment.trim()) body.comment = f.comment.trim();
      return body;
    },
  },
  {
    key: "pause",
    roles: APPROVERS,
    when: running,
    // the review date: a week ahead unless changed, within the policy's pause maximum
    fields: [
      { name: "reason", type: "textarea", required: true },
      { name: "review_at", label: "form.reviewAt", type: "datetime-local", required: true, ahead: 7, within: 30 },
    ],
    body: (f) => ({ reason: f.reason.trim(), review_at: localInputToIso(f.review_at) }),
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
    when: (c) => concluded(c) || c.status === "closed",
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
    key: "supervision-answers",
    roles: WORKERS,
    when: supervised,
    only: supervised, // an open 督办 waits for this answer
    fields: [{ name: "answer", label: "form.supervisionAnswer", type: "textarea", required: true }],
    body: (f) => ({ answer: f.answer.trim() }),
  },
  {
    key: "supervision-orders",
    roles: APPROVERS,
    scope: ABOVE,
    when: (c) => (OPEN.includes(c.status) || CONCLUDED.includes(c.status)) && !supervised(c),
    fields: [
      { name: "text", label: "form.instruction", type: "textarea", required: true },
      { name: "due_at", label: "form.answerDue", type: "datetime-local", required: true, ahead: 3 },
    ],
    body: (f) => ({ text: f.text.trim(), due_at: localInputToIso(f.due_at) }),
  },
  {
    key: "take-over",
    roles: APPROVERS,
    scope: ABOVE,
    when: running,
    only: (c, caller) => caller.tier !== "city", // the county is the top tier for cases
    fields: [{ name: "reason", type: "textarea", required: true }],
    body: (f) => ({ reason: f.reason.trim() }),
  },
  {
    // 督查回访: once, on a case a monthly draw sampled
    key: "inspections",
    roles: ["inspector"],
    scope: INSPECT,
    when: () => true,
    only: (c) => Boolean(c.inspection) && !c.inspection.recorded_at,
    fields: [
      { name: "reached", type: "select", options: ["true", "false"], labels: { true: "form.yes", false: "form.no" } },
      { name: "satisfied", type: "select", options: ["true", "false"], labels: { true: "form.yes", false: "form.no" }, shown: (v) => v.reached === "true" },
      {
        name: "agreement_honoured",
        label: "form.honoured",
        type: "select",
        options: ["", "true", "false"],
        labels: { "": "form.unknown", true: "form.yes", false: "form.no" },
        shown: (v) => v.reached === "true",
      },
      { name: "remarks", label: "form.remarks", type: "textarea" },
      { name: "rework", label: "form.rework", type: "select", options: ["false", "true"], labels: { false: "form.no", true: "form.yes" } },
    ],
    body: (f) => {
      const body = { reached: f.reached === "true", remarks: f.remarks.trim(), rework: f.rework === "true" };
      if (body.reached) {
        body.satisfied = f.satisfied === "true";
        body.agreement_honoured = f.agreement_honoured === "" ? null : f.agreement_honoured === "true";
      }
      return body;
    },
  },
  {
    key: "notes",
    roles: ANYONE,
    scope: RECORD,
    when: () => true,
    fields: [{ name: "text", type: "textarea", required: true }],
    body: (f) => ({ text: f.text.trim() }),
  },
];

// 差评核实 (ReviewRating): sent from the review box, not the actions list.
const REVIEW = { key: "rating-reviews" };

// Who may attach a file (AddAttachment's roles).
const ATTACHERS = ANYONE;
const UNMASKERS = WORKERS;

// What each event recorded beyond its timeline line: [field, label, shown as an identifier].
const RECORDED = {
  Registered: [
    ["summary", "file.summary"],
    ["reporter", "file.reporter", true],
    ["recorded_by", "file.recordedBy", true],
  ],
  MediationSessionRecorded: [
    ["attendees", "file.attendees"],
    ["notes", "file.notes"],
  ],
  Resolved: [["agreement", "file.agreement"]],
  ReferralAnswered: [["answer", "file.answer"]],
  ReferralResultReported: [["result", "file.referralResult"]],
  ReportedBack: [["result", "file.reportedBack"]],
  FollowUpRecorded: [["note", "file.followNote"]],
  InspectionRecorded: [["remarks", "file.remarks"]],
  NoteAdded: [["text", "file.note"]],
  JudicialConfirmationRecorded: [["note", "file.rulingNote"]],
  AttachmentAdded: [["name", "file.attachment", true]],
};

const hasValue = (value) => value !== null && value !== undefined && value !== "" && !(Array.isArray(value) && !value.length);

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
  let known = { resultDue: false }; // what the case file tells beyond the case's own answer
  let stopped = false;
  let mediators = { owner: null, list: [] }; // whom assign offers (readMediators)
  const asked = new Map(); // action → fields the server asked for (a 422 naming a hidden one)

  container.innerHTML = `
    <section class="case-page">
      <a class="back" href="#/">${esc(t("case.back"))}</a>
      <div id="case-body" aria-busy="true"><p class="muted">${esc(t("case.loading"))}</p></div>
    </section>`;
  const body = container.querySelector("#case-body");

  async function load(sent = null) {
    try {
      const [kase, file, documents] = await Promise.all([
        api.get(`/cases/${caseId}`),
        api.get(`/cases/${caseId}/file`),
        api.get(`/cases/${caseId}/documents`),
      ]);
      if (stopped) return;
      const first = current === null;
      current = kase;
      known = fromFile(kase, file);
      await readMediators(kase);
      if (first) layout();
      drawDetails(kase);
      drawTimeline(file);
      drawAttachments(file);
      drawDocuments(documents);
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

  // The owning unit's active mediators, whom assign offers by name: read when the caller may
  // assign here, and again when the case has a new owner.
  async function readMediators(c) {
    if (!APPROVERS.includes(state.caller.role) || seat(c) !== OWNER || mediators.owner === c.owner) return;
    try {
      const answer = await api.get(`/users?unit=${encodeURIComponent(c.owner)}&role=mediator&active=true`);
      mediators = { owner: c.owner, list: answer.items.map((m) => ({ user: m.user, name: m.name })) };
    } catch {
      mediators = { owner: null, list: [] }; // asked again with the next load
    }
  }

  // A user id with the name the directory gives it, when the page knows it.
  function staffName(user) {
    const found = mediators.list.find((m) => m.user === user);
    return found ? `${found.name} · ${user}` : user;
  }

  function mediatorSelect(id, field) {
    const list = mediators.owner === current.owner ? mediators.list : [];
    const options = list.length
      ? list
          .map((m) => `<option value="${esc(m.user)}" ${m.user === current.assignee ? "selected" : ""}>${esc(`${m.name} · ${m.user}`)}</option>`)
          .join("")
      : `<option value="" disabled selected>${esc(t("form.noMediators"))}</option>`;
    return `<select id="${id}" name="${field.name}" required>${options}</select>`;
  }

  // An accepted referral waits for the agency's result until one is recorded.
  function fromFile(c, file) {
    let resultDue = false;
    for (const e of file.entries) {
      if (e.type === "ReferralAnswered") resultDue = e.fields.outcome === "accepted";
      if (e.type === "ReferralResultReported" || e.type === "ReferralDeclined") resultDue = false;
    }
    return { resultDue: resultDue && c.status === "referred", review: underReview(file) };
  }

  // The bad rating awaiting 差评核实, with the rating that opened it (how, what was said).
  function underReview(file) {
    let rated = null;
    let review = null;
    for (const e of file.entries) {
      if (e.type === "Rated") rated = e.fields;
      if (e.type === "RatingReviewOpened") review = { grade: e.fields.grade, rated };
      if (e.type === "RatingReviewed") review = null;
    }
    return review;
  }

  function layout() {
    body.setAttribute("aria-busy", "false");
    body.innerHTML = `
      <div class="case-grid">
        <div class="case-main">
          <div id="case-head"></div>
          <section class="panel supervision-panel" id="case-supervision" aria-labelledby="supervision-title" hidden></section>
          <section class="panel referral-in-panel" id="case-referral-in" aria-labelledby="referral-in-title" hidden></section>
          <section class="panel inspection-panel" id="case-inspection" aria-labelledby="inspection-title" hidden></section>
          <section class="panel repeats-panel" id="case-repeats" aria-labelledby="repeats-title" hidden></section>
          <section class="panel review-panel" id="case-rating-review" aria-labelledby="review-title" hidden></section>
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
          <section class="panel" aria-labelledby="documents-title">
            <h2 id="documents-title">${esc(t("case.documents"))}</h2>
            <div id="case-documents"></div>
            ${UNMASKERS.includes(state.caller.role) ? unmaskHtml() : ""}
          </section>
          <section class="panel" aria-labelledby="attachments-title">
            <h2 id="attachments-title">${esc(t("case.attachments"))}</h2>
            <div id="case-attachments"></div>
            ${ATTACHERS.includes(state.caller.role) ? uploadHtml() : ""}
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
    wireFlagParty(body.querySelector("#case-parties"), caseId);
    const form = body.querySelector("#upload-form");
    form?.addEventListener("submit", upload);
    form?.file.addEventListener("change", () => {
      form.querySelector("#upload-chosen").textContent = form.file.files[0]?.name || t("case.uploadNothing");
    });
  }

  function drawDetails(c) {
    const flags = c.flags.map((f) => `<span class="flag flag-${esc(f)}" data-flag="${esc(f)}">${esc(name("flag", f))}</span>`).join("");
    body.querySelector("#case-head").innerHTML = `
      <header class="case-head lvl-${esc(c.level)}">
        <div class="case-badges">
          <span class="pill lvl-${esc(c.level)}">${esc(name("level", c.level))}${lang() === "en" ? "" : "预警"}</span>
          <span class="status st-${esc(c.status)}" id="case-status" data-status="${esc(c.status)}">${esc(name("status", c.status))}</span>
          ${c.awaiting_signature && c.status !== "registered" ? `<span class="status st-registered" id="case-awaiting">${esc(t("case.awaiting"))}</span>` : ""}
          <span class="muted">${esc(name("kind", c.kind))} · ${esc(c.category)}</span>
          ${flags}
        </div>
        <p class="level-cause" id="level-cause" data-cause="${esc(c.level_cause)}">${esc(levelText(c))}${suggestionHtml(c)}</p>
        ${c.number ? `<p class="case-number" id="case-number">${esc(c.number)}</p>` : ""}
        <h1 class="case-title">${esc(c.summary)}</h1>
        <p class="muted small mono">${esc(c.id)} · ${esc(t("case.version"))} <span id="case-version">${c.version}</span></p>
      </header>`;
    const rows = [
      [t("case.location"), unitPath(c.unit)],
      [t("case.owner"), `${unitName(c.owner)} · ${name("tier", c.tier)}`],
      [t("case.assignee"), c.assignee ? staffName(c.assignee) : t("board.unassigned")],
      [t("case.channel"), name("channel", c.channel) + (c.clue_id ? ` · ${t("case.fromClue", { id: c.clue_id.slice(0, 8) })}` : "")],
      ...(c.caller ? [[t("case.caller"), callerText(c.caller)]] : []),
      [t("case.people"), t("case.people.n", { n: formatNumber(c.people_involved) })],
      [t("case.amount"), c.amount_involved ? `${formatYuan(c.amount_involved)} ${t("case.yuan")}` : "—"],
      [t("case.policeCallouts"), t("case.policeCallouts.n", { n: formatNumber(c.police_callouts ?? 0) })],
      [t("case.registered"), formatTime(c.registered_at)],
      [t("case.updated"), formatTime(c.updated_at)],
      [t("case.policy"), c.policy_version],
    ];
    body.querySelector("#case-details").innerHTML = `<dl class="facts">${rows
      .map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`)
      .join("")}</dl>`;
    drawSupervision(c);
    drawReferralIn(c);
    drawInspection(c);
    drawRepeats(c);
    drawReview(c);
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
            <th>${esc(t("case.idNumber"))}</th><th>${esc(t("case.phone"))}</th><th>${esc(t("case.address"))}</th>${headerCell()}</tr></thead>
          <tbody>${c.parties
            .map((p, i) => [p, partyCells(c.id, i)])
            .map(
              ([p, flag]) => `<tr><td>${esc(p.name)}</td><td>${esc(name("partyRole", p.role))}</td>
                <td class="mono">${esc(p.id_number || "—")}</td><td class="mono">${esc(p.phone || "—")}</td>
                <td>${esc(p.address || "—")}</td>${flag.cell}</tr>${flag.row}`,
            )
            .join("")}</tbody></table></div>
         <p class="muted small">${esc(t("case.masked"))}</p>`
      : `<p class="muted">${esc(t("case.noParties"))}</p>`;
  }

  // 红色预警 · 触发预警指标：涉及30人以上 / 逾期升级 / 研判: the level and why it is that.
  function levelText(c) {
    const level = `${name("level", c.level)}${lang() === "en" ? "" : "预警"}`;
    const cause = name("levelCause", c.level_cause || "registered");
    const said = c.level_cause === "triggers" && c.risk_triggers?.length ? t("case.triggered", { cause, triggers: triggersText(c.risk_triggers) }) : cause;
    return t("case.levelLine", { level, cause: said });
  }

  // What the risk triggers suggest, when it is not the level the case has.
  function suggestionHtml(c) {
    if (!c.suggested_level || c.suggested_level === c.level) return "";
    const level = name("level", c.suggested_level);
    const text = c.risk_triggers?.length ? t("case.suggestedWhy", { level, triggers: triggersText(c.risk_triggers) }) : t("case.suggested", { level });
    return `<span class="suggested" id="level-suggested" data-level="${esc(c.suggested_level)}">${esc(text)}</span>`;
  }

  // 匿名, or the caller's name and phone (masked as the API answers).
  function callerText(caller) {
    if (caller.anonymous) return t("case.anonymous");
    return [caller.name, caller.phone].filter(Boolean).join(" · ") || t("value.missing");
  }

  // The open 督办: who ordered it, what, by when, and how often its answer was flagged late.
  function drawSupervision(c) {
    const box = body.querySelector("#case-supervision");
    const order = c.supervision;
    box.hidden = !order;
    if (!order) {
      box.innerHTML = "";
      return;
    }
    const late = Date.parse(order.due_at) < Date.now();
    box.innerHTML = `
      <h2 id="supervision-title">${esc(t("case.supervision"))} <span class="muted small">${esc(t("case.supervisionOrder", { n: order.order }))}</span></h2>
      <dl class="facts">
        <div><dt>${esc(t("case.supervisionBy"))}</dt><dd>${esc(unitName(order.by_unit))}</dd></div>
        <div><dt>${esc(t("case.supervisionDue"))}</dt><dd class="${late ? "late-text" : ""}">${esc(formatZoned(order.due_at))}</dd></div>
        <div><dt>${esc(t("case.supervisionReminders"))}</dt><dd id="supervision-reminders">${esc(t("case.supervisionReminders.n", { n: order.reminders }))}</dd></div>
        <div class="wide"><dt>${esc(t("case.supervisionText"))}</dt><dd id="supervision-text">${esc(order.instruction)}</dd></div>
      </dl>`;
  }

  // Referred here (诉前委派、110、信访转交): by whom, under what number, when the result is due
  // back and whether it was sent.
  function drawReferralIn(c) {
    const box = body.querySelector("#case-referral-in");
    const from = c.referral_in;
    box.hidden = !from;
    if (!from) {
      box.innerHTML = "";
      return;
    }
    const sent = from.reported_back ? "reported" : "pending";
    box.innerHTML = `
      <h2 id="referral-in-title">${esc(t("case.referralIn"))}</h2>
      <dl class="facts">
        <div><dt>${esc(t("case.referralAgency"))}</dt><dd>${esc(name("agency", from.agency))}</dd></div>
        <div><dt>${esc(t("case.referralReference"))}</dt><dd class="ident">${esc(from.reference)}</dd></div>
        <div><dt>${esc(t("case.referralDue"))}</dt><dd>${esc(from.due_at ? formatZoned(from.due_at) : "—")}</dd></div>
        <div><dt>${esc(t("case.referralState"))}</dt><dd><span class="status ${from.reported_back ? "st-resolved" : "st-reopened"}" id="reported-back" data-state="${sent}">${esc(t(from.reported_back ? "case.reportedBack" : "case.notReportedBack"))}</span></dd></div>
      </dl>`;
  }

  // 差评核实: the bad rating, how it was taken, by when it is reviewed; the owning unit's
  // supervisor confirms it (the case goes back for rework) or disputes it with a reason.
  function drawReview(c) {
    const box = body.querySelector("#case-rating-review");
    const review = c.flags.includes("rating_review") ? known.review : null;
    const typed = box.querySelector("#review-reason")?.value || "";
    box.hidden = !review;
    if (!review) {
      box.innerHTML = "";
      return;
    }
    const due = c.deadlines.find((d) => d.kind === "rating_review");
    const rated = review.rated || {};
    const how = rated.channel ? ` · ${name("ratingChannel", rated.channel)}` : "";
    const mine = APPROVERS.includes(state.caller.role) && seat(c) === OWNER;
    box.innerHTML = `
      <h2 id="review-title">${esc(t("case.review"))}</h2>
      <dl class="facts">
        <div><dt>${esc(t("case.reviewGrade"))}</dt><dd id="review-grade" data-grade="${esc(review.grade)}">${esc(name("grade", review.grade) + how)}</dd></div>
        <div><dt>${esc(t("case.reviewDue"))}</dt><dd class="${due?.overdue ? "late-text" : ""}">${esc(due ? formatZoned(due.due_at) : "—")}</dd></div>
        ${rated.comment ? `<div class="wide"><dt>${esc(t("case.reviewComment"))}</dt><dd id="review-comment">${esc(rated.comment)}</dd></div>` : ""}
      </dl>
      <p class="muted small">${esc(t("case.reviewWho"))}</p>
      ${
        mine
          ? `<form class="review-form" id="review-form" novalidate>
        <label for="review-reason">${esc(t("case.reviewReason"))}</label>
        <textarea id="review-reason" name="reason" rows="2" maxlength="2000" placeholder="${esc(t("case.reviewReasonHint"))}">${esc(typed)}</textarea>
        <div class="review-buttons">
          <button type="submit" class="primary" value="confirm" id="review-confirm">${esc(t("case.reviewConfirm"))}</button>
          <button type="submit" class="secondary" value="dispute" id="review-dispute">${esc(t("case.reviewDispute"))}</button>
        </div>
      </form>`
          : ""
      }`;
    const form = box.querySelector("#review-form");
    form?.addEventListener("submit", (event) => {
      event.preventDefault();
      const decision = event.submitter?.value === "dispute" ? "dispute" : "confirm";
      const reason = form.reason.value.trim();
      if (decision === "dispute" && !reason) {
        message(t("err.field", { field: t("case.reviewReason"), reason: t("form.required") }), "error");
        form.reason.focus();
        return;
      }
      send(REVIEW, reason ? { decision, reason } : { decision }, event.submitter);
    });
  }

  // 督查回访: the draw that sampled the case, when the callback is due, and what it found.
  function drawInspection(c) {
    const box = body.querySelector("#case-inspection");
    const sample = c.inspection;
    box.hidden = !sample;
    if (!sample) {
      box.innerHTML = "";
      return;
    }
    const recorded = Boolean(sample.recorded_at);
    const late = recorded ? Date.parse(sample.recorded_at) > Date.parse(sample.due_at) : sample.overdue;
    const state = recorded ? (late ? "done_late" : "done") : late ? "overdue" : "pending";
    const colon = lang() === "en" ? ": " : "：";
    const yes = (value) => (value === null || value === undefined ? t("value.missing") : t(value ? "value.yes" : "value.no"));
    const found = !recorded
      ? "—"
      : sample.reached
        ? `${t("form.satisfied")}${colon}${yes(sample.satisfied)} · ${t("form.honoured")}${colon}${yes(sample.agreement_honoured)}`
        : t("inspections.unreached");
    box.innerHTML = `
      <h2 id="inspection-title">${esc(t("case.inspection"))}</h2>
      <dl class="facts">
        <div><dt>${esc(t("case.inspectionDraw"))}</dt><dd>${esc(unitName(sample.township))} · ${esc(sample.month)}</dd></div>
        <div><dt>${esc(t("case.inspectionDue"))}</dt><dd class="${late ? "late-text" : ""}">${esc(formatZoned(sample.due_at))}</dd></div>
        <div><dt>${esc(t("case.inspectionState"))}</dt><dd id="inspection-state" data-state="${state}">${esc(name("inspectionState", state))}</dd></div>
        <div><dt>${esc(t("case.inspectionFound"))}</dt><dd id="inspection-found">${esc(found)}${sample.rework ? ` · ${esc(t("inspections.rework"))}` : ""}</dd></div>
      </dl>
      <p class="muted small">${esc(t("case.inspectionWho"))}</p>`;
  }

  // 重复纠纷 in both files: the earlier cases this one repeats (number, what they share, how
  // each ended) and the later ones repeating it; and 涉重点人员 when a key person is a party.
  function drawRepeats(c) {
    const box = body.querySelector("#case-repeats");
    const earlier = c.repeat_of || [];
    const later = c.repeated_by || [];
    const keyPersons = (c.key_persons || []).length;
    box.hidden = !earlier.length && !later.length && !keyPersons;
    if (box.hidden) {
      box.innerHTML = "";
      return;
    }
    const row = (link) => `<li data-case="${esc(link.id)}">
        <a href="#/cases/${encodeURIComponent(link.id)}">${esc(link.number || link.id.slice(0, 8))}</a>
        <span class="muted small">${esc(formatTime(link.registered_at))}</span>
        · ${esc(link.matched_by.map((why) => name("repeatMatch", why)).join("、"))}
        · ${esc(link.outcome ? name("status", link.outcome) : link.status ? name("status", link.status) : t("value.missing"))}
      </li>`;
    const list = (id, title, links) =>
      links.length ? `<h3>${esc(t(title))}</h3><ul class="repeat-links" id="${id}">${links.map(row).join("")}</ul>` : "";
    box.innerHTML = `
      <h2 id="repeats-title">${esc(t("case.repeats"))}</h2>
      ${keyPersons ? `<p class="key-person-warning" id="key-person-warning" role="alert">${esc(t("case.keyPersons", { n: formatNumber(keyPersons) }))}</p>` : ""}
      ${list("repeat-of", "case.repeatOf", earlier)}
      ${list("repeated-by", "case.repeatedBy", later)}`;
  }

  const unitLabel = (code) => unitName(code);

  // The case file, newest first: what happened (from the entry's timeline fields), who did
  // it, for which unit, when (Shanghai time), what it recorded, and how the clocks changed.
  function drawTimeline(file) {
    const clocks = clockChanges(file.entries);
    body.querySelector("#case-timeline").innerHTML = [...file.entries]
      .reverse()
      .map(
        (e) => `<li class="tl tone-${EVENT_TONE[e.type] || "plain"}" data-event="${esc(e.type)}" data-version="${e.version}">
          <div class="tl-head"><strong>${esc(name("event", e.type))}</strong>
            <time datetime="${esc(e.at)}">${esc(formatZoned(e.at))}</time></div>
          <div class="tl-who"><span class="ident">${esc(e.actor)}</span><span>· ${esc(name("role", e.role))}</span><span>· ${esc(t("file.owner"))} ${esc(unitName(e.owner))}</span><span>· ${esc(t("file.version", { n: e.version }))}</span></div>
          <div class="tl-text">${timelineHtml(e.type, e.timeline, unitLabel)}</div>
          ${recordedHtml(e)}
          ${clocks.get(e.version) ? `<div class="tl-clocks">${esc(t("file.clocks", { changes: clocks.get(e.version) }))}</div>` : ""}
        </li>`,
      )
      .join("");
  }

  // What an entry recorded beyond its line: the texts people wrote, the parties, the file.
  function recordedHtml(e) {
    const rows = (RECORDED[e.type] || [])
      .filter(([field]) => hasValue(e.fields[field]))
      .map(([field, label, ident]) => {
        const text = esc(fieldText(e.type, field, e.fields[field]));
        return `<div class="rec"><dt>${esc(t(label))}</dt><dd class="rec-${field}">${ident ? `<span class="ident">${text}</span>` : text}</dd></div>`;
      });
    if (e.type === "Registered" && e.fields.parties?.length) {
      const parties = e.fields.parties.map((p) => `<li>${esc(partyLine(p))}</li>`).join("");
      rows.push(`<div class="rec"><dt>${esc(t("file.parties"))}</dt><dd><ul class="rec-parties">${parties}</ul></dd></div>`);
    }
    if (e.type === "AttachmentAdded") {
      rows.push(`<div class="rec"><dt></dt><dd><button type="button" class="link" data-download="${esc(e.fields.url)}" data-name="${esc(e.fields.name)}">${esc(t("case.download"))}</button></dd></div>`);
    }
    return rows.length ? `<dl class="tl-recorded">${rows.join("")}</dl>` : "";
  }

  function partyLine(p) {
    const or = (value) => value || t("value.missing");
    return t("file.partyLine", {
      name: p.name,
      role: name("partyRole", p.role),
      id: or(p.id_number),
      phone: or(p.phone),
      address: or(p.address),
    });
  }

  // Each entry's change to the pending clocks (events that carry them): started or moved,
  // and ended.
  function clockChanges(entries) {
    const changes = new Map();
    let before = {};
    for (const e of entries) {
      const after = e.fields.deadlines;
      if (!after) continue;
      const said = [];
      const soonest = Object.entries(after).sort(([, a], [, b]) => Date.parse(a.due_at) - Date.parse(b.due_at));
      for (const [kind, clock] of soonest) {
        if (before[kind]?.due_at !== clock.due_at) said.push(t("file.clockDue", { kind: name("due", kind), time: formatZoned(clock.due_at) }));
      }
      for (const kind of Object.keys(before)) {
        if (!(kind in after)) said.push(t("file.clockEnded", { kind: name("due", kind) }));
      }
      if (said.length) changes.set(e.version, said.join(lang() === "en" ? "; " : "；"));
      before = after;
    }
    return changes;
  }

  // --- attachments -------------------------------------------------------------------------

  function uploadHtml() {
    const kinds = ["photo", "agreement", "evidence", "other"];
    return `<form class="upload" id="upload-form" novalidate>
      <h3 class="sub">${esc(t("case.uploadTitle"))}</h3>
      <label for="upload-kind">${esc(t("case.uploadKind"))}</label>
      <select id="upload-kind" name="kind">${kinds
        .map((k) => `<option value="${k}">${esc(name("attachmentKind", k))}</option>`)
        .join("")}</select>
      <span class="upload-label">${esc(t("case.uploadFile"))}</span>
      <div class="file-pick">
        <input id="upload-file" class="visually-hidden" name="file" type="file" accept="image/*" capture="environment">
        <label for="upload-file" class="secondary">${esc(t("case.uploadPick"))}</label>
        <span class="muted small" id="upload-chosen">${esc(t("case.uploadNothing"))}</span>
      </div>
      <button type="submit" class="primary" id="upload-submit">${esc(t("case.uploadSubmit"))}</button>
    </form>`;
  }

  function drawAttachments(file) {
    const box = body.querySelector("#case-attachments");
    const added = file.entries.filter((e) => e.type === "AttachmentAdded");
    if (!added.length) {
      box.innerHTML = `<p class="muted">${esc(t("case.noAttachments"))}</p>`;
      return;
    }
    box.innerHTML = `<div class="table-wrap"><table class="attachments" id="attachments-table">
      <thead><tr><th>${esc(t("att.name"))}</th><th></th><th>${esc(t("att.kind"))}</th><th>${esc(t("att.size"))}</th>
        <th>${esc(t("att.by"))}</th><th>${esc(t("att.at"))}</th><th>${esc(t("att.media"))}</th><th>${esc(t("att.sha"))}</th></tr></thead>
      <tbody>${added
        .map(
          ({ fields: f, actor, at }) => `<tr data-sha="${esc(f.sha256)}">
            <td class="att-name ident">${esc(f.name)}</td>
            <td><button type="button" class="link" data-download="${esc(f.url)}" data-name="${esc(f.name)}">${esc(t("case.download"))}</button></td>
            <td>${esc(name("attachmentKind", f.kind))}</td><td class="num">${esc(formatSize(f.size))}</td>
            <td class="ident">${esc(actor)}</td><td>${esc(formatZoned(at))}</td>
            <td class="mono">${esc(f.media_type)}</td>
            <td class="mono ident" title="${esc(f.sha256)}">${esc(f.sha256.slice(0, 12))}…</td>
          </tr>`,
        )
        .join("")}</tbody></table></div>`;
  }

  // --- documents ---------------------------------------------------------------------------

  // Whoever reads the case gets masked copies (脱敏副本); the assigned mediator or an owning
  // supervisor may ask for one naming the parties, with a reason the server records.
  function unmaskHtml() {
    return `<div class="unmask-reason">
      <label for="document-reason">${esc(t("case.documentReason"))}</label>
      <input id="document-reason" name="reason" maxlength="200" placeholder="${esc(t("case.documentReasonHint"))}">
    </div>`;
  }

  function drawDocuments(documents) {
    const box = body.querySelector("#case-documents");
    if (!documents.length) {
      box.innerHTML = `<p class="muted">${esc(t("case.noDocuments"))}</p>`;
      return;
    }
    box.innerHTML = `<ul class="documents" id="documents-list">${documents
      .map(
        (d) => `<li data-kind="${esc(d.kind)}">
          <span class="document-title">${esc(d.title)}</span>
          <span class="document-actions">
            <button type="button" class="link" data-print="${esc(d.html)}">${esc(t("case.print"))}</button>
            <button type="button" class="link" data-download="${esc(d.docx)}" data-name="${esc(d.title)}.docx">${esc(t("case.word"))}</button>
          </span>
        </li>`,
      )
      .join("")}</ul>`;
  }

  // The reason typed, if any, asks for the parties in full; the server decides who may.
  function withReason(path) {
    const reason = body.querySelector("#document-reason")?.value.trim();
    if (!reason) return path;
    return `${path}&unmask=true&reason=${encodeURIComponent(reason)}`;
  }

  // A print view needs the bearer token, so it is fetched and shown from a Blob URL in a tab
  // opened at the click (a tab opened after an await would be taken for a pop-up).
  body.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-print]");
    if (!button) return;
    const tab = window.open("", "_blank");
    try {
      const response = await api.fetchRaw(withReason(button.dataset.print.replace(/^\/api\/v1/, "")));
      const url = URL.createObjectURL(await response.blob());
      if (tab) tab.location.href = url;
      else window.location.href = url;
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (error) {
      tab?.close();
      message(api.errorText(error), "error", error);
    }
  });

  // Downloads go through fetch (they need the bearer token); each is recorded by the server.
  body.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-download]");
    if (!button) return;
    button.disabled = true;
    try {
      const path = button.dataset.download.replace(/^\/api\/v1/, "");
      await api.download(path.includes("?format=") ? withReason(path) : path, button.dataset.name);
      message(t("case.downloaded", { name: button.dataset.name }), "ok");
    } catch (error) {
      message(api.errorText(error), "error", error);
    } finally {
      button.disabled = false;
    }
  });

  // POST multipart/form-data (file, kind) as the AddAttachment command: If-Match the version
  // shown, a fresh Idempotency-Key; the answer is the case.
  async function upload(event) {
    event.preventDefault();
    const form = event.target;
    const chosen = form.file.files[0];
    if (!chosen) {
      message(t("case.uploadNone"), "error");
      return;
    }
    const button = form.querySelector("#upload-submit");
    button.disabled = true;
    const data = new FormData();
    data.append("kind", form.kind.value);
    data.append("file", chosen, chosen.name);
    const headers = { Accept: "application/json", Authorization: `Bearer ${api.token()}`, "Idempotency-Key": api.newKey() };
    if (current) headers["If-Match"] = `"${current.version}"`;
    try {
      const response = await fetch(`/api/v1/cases/${encodeURIComponent(caseId)}/attachments`, { method: "POST", headers, body: data });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({ status: response.status }));
        if (response.status === 401) window.dispatchEvent(new CustomEvent("fengqiao:unauthorized"));
        throw new api.ApiError(response.status, problem);
      }
      form.reset();
      await load();
      message(t("case.uploaded", { name: chosen.name }), "ok");
    } catch (error) {
      if (error instanceof api.ApiError && error.problem?.current_version !== undefined) await load();
      message(api.errorText(error, "attachments"), "error", error);
    } finally {
      button.disabled = false;
    }
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
        if (!(field.name in values)) continue;
        field.value = values[field.name];
        field.dispatchEvent(new Event("input")); // what reads the value (a time in words) follows
      }
    }
  }

  function drawActions(c, sent = null) {
    const box = body.querySelector("#case-actions");
    const memory = remember(box, sent);
    const here = seat(c);
    const caller = { ...state.caller, tier: state.unit?.tier };
    const mine = ACTIONS.filter(
      (a) =>
        a.roles.includes(state.caller.role) &&
        [RECORD, here, inspecting(c, caller)].includes(a.scope || OWNER) &&
        (!a.only || a.only(c, caller, known)),
    );
    const note = ownerNote(c, here, mine);
    if (!mine.length) {
      box.innerHTML = `${note}<p class="muted">${esc(t("case.noActions"))}</p>`;
      return;
    }
    const likely = mine.filter((a) => a.when(c, known));
    const others = mine.filter((a) => !a.when(c, known));
    box.innerHTML = `${note}
      <div class="actions">${likely.map(actionHtml).join("")}</div>
      ${others.length ? `<details class="more-actions"><summary>${esc(t("case.moreActions"))}</summary>
        <div class="actions">${others.map(actionHtml).join("")}</div></details>` : ""}`;
    for (const element of box.querySelectorAll("[data-action]")) wire(element);
    restore(box, memory);
  }

  // Where the caller sits for this case: its owner, a unit above the owner (the units tree
  // from /units is the caller's subtree), or elsewhere (it reads the case, as where it happened).
  function seat(c) {
    const me = state.caller.unit;
    if (c.owner === me) return OWNER;
    for (let unit = state.units.get(c.owner); unit?.parent; unit = state.units.get(unit.parent)) {
      if (unit.parent === me) return ABOVE;
    }
    return "";
  }

  // An inspector sits at a county or the city and inspects the cases located below it (the
  // units tree from /units is the caller's subtree).
  function inspecting(c, caller) {
    return ["county", "city"].includes(caller.tier) && state.units.has(c.unit) ? INSPECT : "";
  }

  // Who works the case, said when it is not the caller's unit.
  function ownerNote(c, here, mine) {
    if (here === OWNER) return "";
    const owner = unitName(c.owner);
    const commands = mine.some((a) => a.scope === ABOVE);
    const text = commands ? t("case.ownerAbove", { owner }) : t("case.ownerElsewhere", { owner });
    return `<p class="owner-note" id="owner-note" data-seat="${esc(here || "elsewhere")}">${esc(text)}</p>`;
  }

  // A field's label: its own, one chosen by the form's other values, or form.<name>.
  function labelOf(field, values = {}) {
    const key = typeof field.label === "function" ? field.label(values) : field.label;
    return t(key || `form.${field.name}`);
  }

  function fieldHtml(action, field) {
    const id = `f-${action.key}-${field.name}`;
    const label = labelOf(field);
    const required = field.required ? "required" : "";
    let control;
    if (field.mediators) {
      control = mediatorSelect(id, field);
    } else if (field.type === "select") {
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
      // a date-time in Beijing time: now, or ``ahead`` days on, and no later than ``within`` days
      const now = Date.now();
      const start = field.now ? now : field.ahead ? now + field.ahead * DAY_MS : null;
      const value = start === null ? "" : `value="${esc(shanghaiLocalInput(new Date(start)))}"`;
      const bounds = field.ahead
        ? `min="${esc(shanghaiLocalInput(new Date(now)))}" ${field.within ? `max="${esc(shanghaiLocalInput(new Date(now + field.within * DAY_MS)))}"` : ""}`
        : "";
      const extra = `${field.inputmode ? `inputmode="${field.inputmode}"` : ""} ${field.pattern ? `pattern="${field.pattern}"` : ""} ${field.maxlength ? `maxlength="${field.maxlength}"` : ""} ${bounds}`;
      // a fact as the case states it, to correct
      const stated = field.current && current[field.current] !== null && current[field.current] !== undefined;
      const shownValue = stated ? `value="${esc(current[field.current])}"` : value;
      control = `<input id="${id}" name="${field.name}" type="${field.type}" ${shownValue} ${extra} ${required}>`;
    }
    // a date-time also reads in words, whatever the browser's own format (12/08/2026, 05:00 PM)
    const said = field.hint ? field.hint(current) : "";
    const hint =
      field.type === "datetime-local" || said
        ? `<small class="field-hint" id="${id}-hint" aria-live="polite">${esc(said)}</small>`
        : "";
    return `<div class="field" data-field="${field.name}"><label for="${id}">${esc(label)}</label>${control}${hint}</div>`;
  }

  // Fields shown only for some values of the others (对方案号 for 已受理), or once the server
  // asked for them; a hidden field is neither required nor sent. Labels that follow a choice.
  function follow(action, form) {
    const values = Object.fromEntries([...form.elements].filter((el) => el.name).map((el) => [el.name, el.value]));
    const wanted = asked.get(action.key) || new Set();
    for (const field of action.fields) {
      const box = form.querySelector(`.field[data-field="${field.name}"]`);
      const control = form.elements[field.name];
      if (field.shown) {
        const shown = field.shown(values, current, wanted.has(field.name));
        box.hidden = !shown;
        control.disabled = !shown;
        control.required = shown && Boolean(field.required);
      }
      if (typeof field.label === "function") box.querySelector("label").textContent = labelOf(field, values);
    }
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
    const following = () => follow(action, form);
    form.addEventListener("input", following);
    form.addEventListener("change", following);
    following();
    for (const input of form.querySelectorAll("input[type=datetime-local]")) {
      const hint = form.querySelector(`#${input.id}-hint`);
      const say = () => {
        hint.textContent = input.value ? formatZoned(localInputToIso(input.value)) : "";
      };
      input.addEventListener("input", say);
      input.addEventListener("change", say);
      say();
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const missing = [...form.elements].find((el) => el.required && !el.disabled && !el.value.trim());
      if (missing) {
        message(t("err.field", { field: fieldName(missing.name, action.key), reason: t("form.required") }), "error");
        missing.focus();
        return;
      }
      const bad = [...form.elements].find((el) => el.pattern && !el.disabled && el.value.trim() && !new RegExp(`^(?:${el.pattern})$`).test(el.value.trim()));
      if (bad) {
        message(t("err.field", { field: fieldName(bad.name, action.key), reason: bad.value }), "error");
        bad.focus();
        return;
      }
      const values = Object.fromEntries(new FormData(form).entries());
      send(action, action.body(values, current), form.querySelector("button[type=submit]"), form);
    });
  }

  async function send(action, payload, button, form = null) {
    const label = t(`action.${action.key}`);
    button.disabled = true;
    message("", "");
    try {
      await api.command(caseId, action.key, payload, current.version);
      asked.delete(action.key);
      await load(action.key);
      message(t("case.done", { action: label }), "ok");
    } catch (error) {
      if (error instanceof api.ApiError && error.problem?.current_version !== undefined) await load();
      message(api.errorText(error, action.key), "error", error);
      askFor(action, form, error);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  }

  // A 422 naming a field the form keeps hidden (低于建议等级的理由 when corrected facts raise
  // the suggestion): the field is shown, and the caller types it there.
  function askFor(action, form, error) {
    const field = error instanceof api.ApiError && error.status === 422 ? error.problem?.field : null;
    if (!form || !field || !action.fields?.some((f) => f.name === field && f.shown)) return;
    asked.set(action.key, new Set([...(asked.get(action.key) || []), field]));
    follow(action, form);
    form.elements[field]?.focus({ preventScroll: true });
  }

  // A refusal names units by code (案件由 511123001002 负责办理): the names the page knows.
  function named(text) {
    return String(text).replace(/\b\d{6,15}\b/g, (code) => (state.units.has(code) ? unitName(code) : code));
  }

  function message(text, kind, error) {
    const box = body.querySelector("#action-message");
    if (!box) return;
    box.hidden = !text;
    box.className = `action-message ${kind ? `msg-${kind}` : ""}`;
    box.dataset.kind = kind || "";
    const raw = error instanceof api.ApiError && lang() !== "en" ? error.problem?.detail : "";
    box.innerHTML = text
      ? `<span>${esc(named(text))}</span>${raw ? `<small class="raw">${esc(t("err.server.detail", { detail: named(raw) }))}</small>` : ""}`
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
