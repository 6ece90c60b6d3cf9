// 重点人员: the key persons of the caller's subtree, for supervisors (and auditors, who read
// only): names masked, the reason, the 包案 leader, the next visit (red once overdue) and the
// review date in 北京时间; a supervisor flags a person typed in, assigns a leader, records a
// visit or takes a person off the list. No ID number or phone is ever shown: the list holds
// none.

import * as api from "./api.js";
import { appState, unitName } from "./app.js";
import { esc, formatZoned, t } from "./i18n.js";

const STATES = ["active", "visit_overdue", "review_due", "removed", "all"];

export function renderKeyPersons(container) {
  const state = appState();
  const keeper = state.caller.role === "supervisor";
  let stopped = false;
  let chosen = "active";

  container.innerHTML = `
    <section class="key-persons" aria-labelledby="key-persons-title">
      <div class="page-head">
        <h1 id="key-persons-title">${esc(t("keyPersons.title"))}<span class="title-unit"><span class="sep"> · </span>${esc(unitName(state.caller.unit))}</span></h1>
        <label class="small">${esc(t("keyPersons.state"))}
          <select id="key-persons-state">${STATES.map((s) => `<option value="${s}">${esc(t(`keyPersons.state.${s}`))}</option>`).join("")}</select>
        </label>
      </div>
      <p class="muted small">${esc(t("keyPersons.lead"))}</p>
      <p id="key-persons-message" role="status" class="small"></p>
      <div id="key-persons-list" aria-busy="true"><p class="muted">${esc(t("case.loading"))}</p></div>
      ${keeper ? flagForm() : ""}
    </section>`;
  const list = container.querySelector("#key-persons-list");
  const message = container.querySelector("#key-persons-message");
  container.querySelector("#key-persons-state").addEventListener("change", (event) => {
    chosen = event.target.value;
    load();
  });
  container.querySelector("#key-person-flag")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { name: form.get("name"), reason: form.get("reason"), review_on: form.get("review_on") };
    for (const field of ["id_number", "phone"]) if (form.get(field)) body[field] = form.get(field);
    await act(() => api.post("/key-persons", body), "keyPersons.flagged");
    event.target.reset();
  });
  list.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const path = `/key-persons/${button.dataset.id}`;
    const ask = (key) => window.prompt(t(key));
    if (button.dataset.action === "leader") {
      const leader = ask("keyPersons.ask.leader");
      if (leader) await act(() => api.post(`${path}/leader`, { leader }), "keyPersons.done");
    } else if (button.dataset.action === "visit") {
      const note = ask("keyPersons.ask.visit");
      if (note) await act(() => api.post(`${path}/visits`, { note }), "keyPersons.done");
    } else if (button.dataset.action === "remove") {
      const reason = ask("keyPersons.ask.remove");
      if (reason) await act(() => api.post(`${path}/removal`, { reason }), "keyPersons.done");
    }
  });

  async function act(send, done) {
    try {
      await send();
      message.className = "small";
      message.textContent = t(done);
      await load();
    } catch (error) {
      message.className = "banner banner-error";
      message.textContent = api.errorText(error);
    }
  }

  async function load() {
    try {
      const answer = await api.get(`/key-persons?state=${encodeURIComponent(chosen)}`);
      if (stopped) return;
      list.setAttribute("aria-busy", "false");
      list.innerHTML = answer.items.length ? table(answer.items) : `<p class="muted" id="key-persons-empty">${esc(t("keyPersons.empty"))}</p>`;
    } catch (error) {
      if (!stopped) list.innerHTML = `<p class="banner banner-error" role="alert">${esc(api.errorText(error))}</p>`;
    }
  }

  function table(items) {
    const rows = items
      .map(
        (item) => `<tr data-person="${esc(item.id)}">
          <td>${esc(item.name)}<div class="muted small">${esc(unitName(item.unit))}</div></td>
          <td>${esc(item.reason)}</td>
          <td>${esc(item.leader || "—")}</td>
          <td class="${item.visit_overdue ? "late-text" : ""}">${item.visit_due_at ? esc(formatZoned(item.visit_due_at)) : "—"}</td>
          <td class="${item.review_due ? "late-text" : ""}">${esc(formatZoned(item.review_at))}</td>
          <td>${keeper && item.active ? actions(item) : ""}</td>
        </tr>`,
      )
      .join("");
    return `<div class="table-wrap"><table class="key-persons-table">
      <thead><tr><th>${esc(t("keyPersons.name"))}</th><th>${esc(t("keyPersons.reason"))}</th><th>${esc(t("keyPersons.leader"))}</th>
        <th>${esc(t("keyPersons.visit"))}</th><th>${esc(t("keyPersons.review"))}</th><th></th></tr></thead>
      <tbody>${rows}</tbody></table></div>`;
  }

  function actions(item) {
    const id = esc(item.id);
    return ["leader", "visit", "remove"]
      .map((action) => `<button type="button" class="ghost small" data-action="${action}" data-id="${id}">${esc(t(`keyPersons.action.${action}`))}</button>`)
      .join(" ");
  }

  function flagForm() {
    const field = (key, type = "text", required = false) =>
      `<label class="small">${esc(t(`keyPersons.form.${key}`))}<input name="${key}" type="${type}" ${required ? "required" : ""}></label>`;
    return `<form id="key-person-flag" class="card">
      <h2>${esc(t("keyPersons.flag"))}</h2>
      ${field("name", "text", true)}${field("id_number")}${field("phone", "tel")}
      ${field("reason", "text", true)}${field("review_on", "date", true)}
      <button type="submit">${esc(t("keyPersons.flag.submit"))}</button>
    </form>`;
  }

  load();
  return () => {
    stopped = true;
  };
}
