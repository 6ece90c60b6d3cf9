// 线索研判 (#/clues): the open clues of the caller's subtree (overdue ones in red, a key-person
// warning), each dismissed with a reason typed into the card or promoted into a 纠纷 or an 事件
// (then its page opens); and a form to record a clue for the grid workers and hotline
// operators. One column on a phone, the form's fields full width with their labels above.

import * as api from "./api.js";
import { appState, unitName, unitPath } from "./app.js";
import { esc, formatZoned, name, t } from "./i18n.js";

const RECORDERS = ["reporter", "mediator", "supervisor", "admin"];
const TRIAGERS = ["mediator", "supervisor", "admin"];
const SOURCES = ["grid", "hotline", "walk_in", "anonymous", "other"];
const STATES = ["open", "overdue", "dismissed", "promoted", ""];
const PLACES = ["village", "grid"]; // where a clue is found
// the default policy's categories (domain/intake.py), offered as the 类别 is typed; the server
// decides (a deployment's own list, "邻里纠纷" read as 邻里) and says which it takes
const CATEGORIES = [
  ...["婚姻家庭", "邻里", "房屋宅基地", "土地承包", "山林水利", "劳动争议", "合同债务", "损害赔偿", "医疗", "物业", "征地拆迁"],
  ...["环境污染", "消费", "治安", "安全生产", "消防", "道路交通", "房屋安全", "地质灾害", "自然灾害", "食品安全", "公共卫生"],
  ...["群体性事件", "其他"],
];

export function renderClues(container) {
  const state = appState();
  let stopped = false;
  let chosen = "open";
  const mayRecord = RECORDERS.includes(state.caller.role);
  const mayTriage = TRIAGERS.includes(state.caller.role);

  container.innerHTML = `
    <section class="clues" aria-labelledby="clues-title">
      <div class="page-head">
        <h1 id="clues-title">${esc(t("clues.title"))}<span class="title-unit"><span class="sep"> · </span>${esc(unitName(state.caller.unit))}</span></h1>
        <label class="head-filter">${esc(t("clues.state"))}
          <select id="clues-state">${STATES.map((s) => `<option value="${s}">${esc(t(`clues.state.${s || "all"}`))}</option>`).join("")}</select>
        </label>
      </div>
      <p class="muted small page-lead">${esc(t("clues.lead"))}</p>
      <div id="clues-message" role="status"></div>
      <div class="clues-grid${mayRecord ? "" : " clues-only"}">
        ${mayRecord ? recordForm() : ""}
        <div id="clues-list" aria-busy="true"><p class="muted">${esc(t("case.loading"))}</p></div>
      </div>
    </section>`;
  const list = container.querySelector("#clues-list");
  const message = container.querySelector("#clues-message");
  container.querySelector("#clues-state").addEventListener("change", (event) => {
    chosen = event.target.value;
    load();
  });
  container.querySelector("#clue-form")?.addEventListener("submit", record);
  list.addEventListener("click", triage);
  list.addEventListener("submit", dismiss);

  // The villages and grids of the caller's subtree, their own first when it is one.
  function places() {
    const own = state.units.get(state.caller.unit);
    const below = [...state.units.values()].filter((u) => PLACES.includes(u.tier) && u.code !== state.caller.unit);
    below.sort((a, b) => a.code.localeCompare(b.code));
    return own && PLACES.includes(own.tier) ? [own, ...below] : below;
  }

  function recordForm() {
    const where = places();
    const unit = where.length
      ? `<select id="clue-unit" name="unit" required>${where.map((u) => `<option value="${esc(u.code)}">${esc(unitPath(u.code))}</option>`).join("")}</select>`
      : `<input id="clue-unit" name="unit" required value="${esc(state.caller.unit)}" />`;
    const field = (id, label, control) => `<label for="${id}">${esc(t(label))}</label>${control}`;
    // open beside the list on a desk; one tap away above it on a phone
    const open = window.matchMedia("(min-width: 900px)").matches ? "open" : "";
    return `<details class="action clue-record" id="clue-record" ${open}><summary>${esc(t("clues.record"))}</summary>
      <form id="clue-form" class="action-form clue-form">
        ${field("clue-unit", "clues.unit", unit)}
        <div class="form-pair">
          <div>${field("clue-category", "clues.category", `<input id="clue-category" name="category" required maxlength="50" list="clue-categories" autocomplete="off" placeholder="${esc(t("clues.category.hint"))}" /><datalist id="clue-categories">${CATEGORIES.map((c) => `<option value="${c}"></option>`).join("")}</datalist>`)}</div>
          <div>${field("clue-source", "clues.source", `<select id="clue-source" name="source">${SOURCES.map((s) => `<option value="${s}">${esc(t(`clues.source.${s}`))}</option>`).join("")}</select>`)}</div>
        </div>
        ${field("clue-summary", "clues.summary", `<textarea id="clue-summary" name="summary" required maxlength="2000" rows="3"></textarea>`)}
        <fieldset class="form-group"><legend>${esc(t("clues.person"))}</legend>
          ${field("clue-party-name", "clues.person.name", `<input id="clue-party-name" name="party_name" maxlength="100" />`)}
          <div class="form-pair">
            <div>${field("clue-party-id", "clues.person.id", `<input id="clue-party-id" name="party_id" maxlength="30" autocomplete="off" />`)}</div>
            <div>${field("clue-party-phone", "clues.person.phone", `<input id="clue-party-phone" name="party_phone" maxlength="30" type="tel" inputmode="tel" autocomplete="off" />`)}</div>
          </div>
        </fieldset>
        <button type="submit" class="primary" id="clue-submit">${esc(t("clues.record.submit"))}</button>
      </form></details>`;
  }

  async function record(event) {
    event.preventDefault();
    const formEl = event.target;
    const form = new FormData(formEl);
    const body = { unit: form.get("unit"), category: form.get("category"), source: form.get("source"), summary: form.get("summary"), parties: [] };
    if (form.get("party_name")) {
      body.parties.push({
        name: form.get("party_name"),
        role: "applicant",
        id_number: form.get("party_id") || null,
        phone: form.get("party_phone") || null,
      });
    }
    const button = formEl.querySelector("#clue-submit");
    button.disabled = true;
    try {
      await api.post("/clues", body);
      formEl.reset();
      if (!window.matchMedia("(min-width: 900px)").matches) formEl.closest("details").open = false;
      say(t("clues.recorded"));
      load();
    } catch (error) {
      say(api.errorText(error), true);
    } finally {
      button.disabled = false;
    }
  }

  // 转为纠纷案件 / 转为事件 send at once and open the new case; 不予立案 opens the card's reason
  // field, 取消 closes it.
  async function triage(event) {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const card = button.closest(".clue-card");
    const box = card.querySelector(".clue-dismiss");
    if (button.dataset.act === "dismiss") {
      box.hidden = false;
      button.setAttribute("aria-expanded", "true");
      box.querySelector("textarea").focus();
      return;
    }
    if (button.dataset.act === "cancel") {
      box.hidden = true;
      box.querySelector(".form-error").textContent = "";
      card.querySelector("button[data-act=dismiss]").setAttribute("aria-expanded", "false");
      return;
    }
    if (button.dataset.act !== "promote") return;
    for (const b of card.querySelectorAll("button")) b.disabled = true;
    try {
      const answer = await api.post(`/clues/${card.dataset.clue}/promotions`, { kind: button.dataset.kind });
      location.hash = `#/cases/${answer.case.id}`;
    } catch (error) {
      say(api.errorText(error), true);
      for (const b of card.querySelectorAll("button")) b.disabled = false;
    }
  }

  // 不予立案: a reason is required (said in the card, not by the browser); the server's own
  // refusal (422, 409) is shown there too.
  async function dismiss(event) {
    const form = event.target.closest("form.clue-dismiss");
    if (!form) return;
    event.preventDefault();
    const card = form.closest(".clue-card");
    const error = form.querySelector(".form-error");
    const reason = form.reason.value.trim();
    if (!reason) {
      error.textContent = t("clues.dismiss.required");
      form.reason.focus();
      return;
    }
    error.textContent = "";
    const confirm = form.querySelector("button[type=submit]");
    confirm.disabled = true;
    try {
      await api.post(`/clues/${card.dataset.clue}/dismissals`, { reason });
      say(t("clues.dismissed"));
      load();
    } catch (failure) {
      error.textContent = api.errorText(failure);
      confirm.disabled = false;
    }
  }

  function say(text, bad = false) {
    message.innerHTML = `<p class="action-message ${bad ? "msg-error" : "msg-ok"}" ${bad ? 'role="alert"' : ""}>${esc(text)}</p>`;
  }

  async function load() {
    const query = chosen ? `&status=${encodeURIComponent(chosen)}` : "";
    try {
      const answer = await api.get(`/clues?unit=${encodeURIComponent(state.caller.unit)}${query}`);
      if (stopped) return;
      list.setAttribute("aria-busy", "false");
      list.innerHTML = answer.items.length ? cards(answer.items) : `<p class="muted empty-note" id="clues-empty">${esc(t("clues.empty"))}</p>`;
    } catch (error) {
      if (!stopped) list.innerHTML = `<p class="banner banner-error" role="alert">${esc(api.errorText(error))}</p>`;
    }
  }

  function cards(items) {
    return `<ul class="clue-list">${items.map(card).join("")}</ul>`;
  }

  function card(item) {
    const open = item.status === "open";
    const late = item.overdue && open;
    const id = esc(item.id);
    const actions =
      open && mayTriage
        ? `<div class="actions clue-actions">
           <button type="button" class="action-button" data-act="promote" data-kind="dispute">${esc(t("clues.promote.dispute"))}</button>
           <button type="button" class="secondary" data-act="promote" data-kind="incident">${esc(t("clues.promote.incident"))}</button>
           <button type="button" class="danger-outline" data-act="dismiss" aria-expanded="false" aria-controls="dismiss-${id}">${esc(t("clues.dismiss"))}</button>
         </div>
         <form class="clue-dismiss action-form" id="dismiss-${id}" novalidate hidden>
           <label for="dismiss-reason-${id}">${esc(t("clues.dismiss.reason"))}</label>
           <textarea id="dismiss-reason-${id}" name="reason" rows="2" maxlength="500" required placeholder="${esc(t("clues.dismiss.hint"))}"></textarea>
           <p class="form-error" role="alert"></p>
           <div class="form-buttons">
             <button type="submit" class="danger">${esc(t("clues.dismiss.confirm"))}</button>
             <button type="button" class="link" data-act="cancel">${esc(t("clues.dismiss.cancel"))}</button>
           </div>
         </form>`
        : "";
    const outcome = item.case_id
      ? `<a href="#/cases/${esc(item.case_id)}">${esc(item.case_number || t("clues.case"))}</a>`
      : `<span class="status clue-st-${late ? "overdue" : esc(item.status)}">${esc(t(`clues.state.${late ? "overdue" : item.status}`))}</span>`;
    const level = esc(item.suggested_level);
    const warning = item.key_person
      ? `<p class="clue-warning" role="note"><span class="badge badge-key-person">${esc(t("clues.keyPerson"))}</span> ${esc(t("clues.keyPerson.warning"))}</p>`
      : "";
    return `<li class="card clue-card lvl-${level}${late ? " overdue" : ""}${item.key_person ? " key-person" : ""}" data-clue="${id}" data-status="${esc(item.status)}">
        ${warning}
        <div class="clue-head">
          <strong class="clue-category">${esc(item.category)}</strong>
          <span class="muted">${esc(unitPath(item.unit))}</span>
          <span class="clue-outcome">${outcome}</span>
        </div>
        <div class="clue-meta">${esc(t("clues.from", { source: t(`clues.source.${item.source}`) }))}<span class="sep"> · </span><span class="clue-level level-${level}"><i class="level-dot"></i>${esc(t("clues.suggested", { level: name("level", item.suggested_level) }))}</span></div>
        <p class="clue-summary">${esc(item.summary)}</p>
        <div class="clue-facts small">
          <span>${esc(t("clues.people", { n: item.people }))}</span>
          <span class="${late ? "late-text" : "muted"}">${esc(t("clues.due"))} ${esc(formatZoned(item.triage_due_at))}${late ? ` · ${esc(t("clues.late"))}` : ""}</span>
        </div>
        ${actions}
      </li>`;
  }

  load();
  return () => {
    stopped = true;
  };
}
