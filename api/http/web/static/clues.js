// 线索研判 (#/clues): the open clues of the caller's subtree (overdue ones in red, a key-person
// warning), each dismissed with a reason or promoted into a case (then its page opens); and a
// form to record a clue for the grid workers and hotline operators. One column on a phone.

import * as api from "./api.js";
import { appState, unitName } from "./app.js";
import { esc, formatZoned, name, t } from "./i18n.js";

const RECORDERS = ["reporter", "mediator", "supervisor", "admin"];
const TRIAGERS = ["mediator", "supervisor", "admin"];
const SOURCES = ["grid", "hotline", "walk_in", "anonymous", "other"];
const STATES = ["open", "overdue", "dismissed", "promoted", ""];

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
        <label class="small">${esc(t("clues.state"))}
          <select id="clues-state">${STATES.map((s) => `<option value="${s}">${esc(t(`clues.state.${s || "all"}`))}</option>`).join("")}</select>
        </label>
      </div>
      <p class="muted small">${esc(t("clues.lead"))}</p>
      <div id="clues-message" role="status"></div>
      ${mayRecord ? recordForm() : ""}
      <div id="clues-list" aria-busy="true"><p class="muted">${esc(t("case.loading"))}</p></div>
    </section>`;
  const list = container.querySelector("#clues-list");
  const message = container.querySelector("#clues-message");
  container.querySelector("#clues-state").addEventListener("change", (event) => {
    chosen = event.target.value;
    load();
  });
  container.querySelector("#clue-form")?.addEventListener("submit", record);
  list.addEventListener("click", triage);

  function recordForm() {
    return `<details class="clue-record"><summary>${esc(t("clues.record"))}</summary>
      <form id="clue-form" class="stack">
        <label>${esc(t("clues.unit"))}<input name="unit" required value="${esc(state.caller.unit)}" /></label>
        <label>${esc(t("clues.category"))}<input name="category" required maxlength="50" /></label>
        <label>${esc(t("clues.source"))}<select name="source">${SOURCES.map((s) => `<option value="${s}">${esc(t(`clues.source.${s}`))}</option>`).join("")}</select></label>
        <label>${esc(t("clues.summary"))}<textarea name="summary" required maxlength="2000" rows="3"></textarea></label>
        <fieldset><legend>${esc(t("clues.person"))}</legend>
          <label>${esc(t("clues.person.name"))}<input name="party_name" maxlength="100" /></label>
          <label>${esc(t("clues.person.id"))}<input name="party_id" maxlength="30" autocomplete="off" /></label>
          <label>${esc(t("clues.person.phone"))}<input name="party_phone" maxlength="30" inputmode="tel" autocomplete="off" /></label>
        </fieldset>
        <button type="submit">${esc(t("clues.record.submit"))}</button>
      </form></details>`;
  }

  async function record(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { unit: form.get("unit"), category: form.get("category"), source: form.get("source"), summary: form.get("summary"), parties: [] };
    if (form.get("party_name")) {
      body.parties.push({
        name: form.get("party_name"),
        role: "applicant",
        id_number: form.get("party_id") || null,
        phone: form.get("party_phone") || null,
      });
    }
    try {
      await api.post("/clues", body);
      event.target.reset();
      say(t("clues.recorded"));
      load();
    } catch (error) {
      say(api.errorText(error), true);
    }
  }

  async function triage(event) {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const id = button.dataset.clue;
    try {
      if (button.dataset.act === "dismiss") {
        const reason = window.prompt(t("clues.dismiss.reason"));
        if (!reason) return;
        await api.post(`/clues/${id}/dismissals`, { reason });
        say(t("clues.dismissed"));
        load();
      } else {
        const kind = button.dataset.kind;
        const answer = await api.post(`/clues/${id}/promotions`, { kind });
        location.hash = `#/cases/${answer.case.id}`;
      }
    } catch (error) {
      say(api.errorText(error), true);
    }
  }

  function say(text, bad = false) {
    message.innerHTML = `<p class="banner ${bad ? "banner-error" : ""}" ${bad ? 'role="alert"' : ""}>${esc(text)}</p>`;
  }

  async function load() {
    const query = chosen ? `&status=${encodeURIComponent(chosen)}` : "";
    try {
      const answer = await api.get(`/clues?unit=${encodeURIComponent(state.caller.unit)}${query}`);
      if (stopped) return;
      list.setAttribute("aria-busy", "false");
      list.innerHTML = answer.items.length ? cards(answer.items) : `<p class="muted" id="clues-empty">${esc(t("clues.empty"))}</p>`;
    } catch (error) {
      if (!stopped) list.innerHTML = `<p class="banner banner-error" role="alert">${esc(api.errorText(error))}</p>`;
    }
  }

  function cards(items) {
    return `<ul class="clue-list">${items.map(card).join("")}</ul>`;
  }

  function card(item) {
    const open = item.status === "open";
    const actions = open && mayTriage
      ? `<div class="actions">
           <button type="button" data-act="promote" data-kind="dispute" data-clue="${esc(item.id)}">${esc(t("clues.promote.dispute"))}</button>
           <button type="button" data-act="promote" data-kind="incident" data-clue="${esc(item.id)}">${esc(t("clues.promote.incident"))}</button>
           <button type="button" class="ghost" data-act="dismiss" data-clue="${esc(item.id)}">${esc(t("clues.dismiss"))}</button>
         </div>`
      : "";
    const outcome = item.case_id
      ? `<a href="#/cases/${esc(item.case_id)}">${esc(item.case_number || t("clues.case"))}</a>`
      : esc(t(`clues.state.${item.status}`));
    return `<li class="clue-card${item.overdue && open ? " overdue" : ""}" data-clue="${esc(item.id)}">
        <div class="clue-head">
          <strong>${esc(item.category)}</strong> · ${esc(unitName(item.unit))} · ${esc(t(`clues.source.${item.source}`))}
          ${item.key_person ? `<span class="badge bad">${esc(t("clues.keyPerson"))}</span>` : ""}
          <span class="level level-${esc(item.suggested_level)}">${esc(name("level", item.suggested_level))}</span>
        </div>
        <p>${esc(item.summary)}</p>
        <div class="muted small">${esc(t("clues.people", { n: item.people }))} ·
          <span class="${item.overdue && open ? "late-text" : ""}">${esc(t("clues.due"))} ${esc(formatZoned(item.triage_due_at))}</span> · ${outcome}</div>
        ${actions}
      </li>`;
  }

  load();
  return () => {
    stopped = true;
  };
}
