// 重点人员: the key persons of the caller's subtree, for supervisors (and auditors, who read
// only): names masked, the reason, the 包案 leader by name (the user id on hover), the next
// visit (red once overdue) and the review date in 北京时间; a supervisor flags a person typed
// in, and assigns a leader, records a visit or takes a person off the list in a small form
// that opens under the person. A table on a desk, one card per person on a phone (the same
// rows, laid out by the stylesheet). No ID number or phone is ever shown: the list holds none.

import * as api from "./api.js";
import { appState, unitName } from "./app.js";
import { esc, formatZoned, shanghaiDate, t } from "./i18n.js";

const STATES = ["active", "visit_overdue", "review_due", "removed", "all"];
const REVIEW_DAYS = 90; // the review date the flag form offers

export function renderKeyPersons(container) {
  const state = appState();
  const keeper = state.caller.role === "supervisor";
  let stopped = false;
  let chosen = "active";
  const staff = new Map(); // user id → name, from the directory
  let supervisors = []; // the subtree's active supervisors: whom 指定包案领导 offers

  container.innerHTML = `
    <section class="key-persons" aria-labelledby="key-persons-title">
      <div class="page-head">
        <h1 id="key-persons-title">${esc(t("keyPersons.title"))}<span class="title-unit"><span class="sep"> · </span>${esc(unitName(state.caller.unit))}</span></h1>
        <label class="head-filter">${esc(t("keyPersons.state"))}
          <select id="key-persons-state">${STATES.map((s) => `<option value="${s}">${esc(t(`keyPersons.state.${s}`))}</option>`).join("")}</select>
        </label>
      </div>
      <p class="muted small page-lead">${esc(t("keyPersons.lead"))}</p>
      <div id="key-persons-message" role="status"></div>
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
    const formEl = event.target;
    const form = new FormData(formEl);
    const error = formEl.querySelector(".form-error");
    if (!form.get("id_number") && !form.get("phone")) {
      error.textContent = t("keyPersons.form.oneOf");
      return;
    }
    const body = { name: form.get("name"), reason: form.get("reason").trim(), review_on: form.get("review_on") };
    for (const field of ["id_number", "phone"]) if (form.get(field)) body[field] = form.get(field);
    if (await act(() => api.post("/key-persons", body), "keyPersons.flagged", formEl)) {
      formEl.reset();
      formEl.review_on.value = shanghaiDate(REVIEW_DAYS);
    }
  });
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = list.querySelector(`tr.kp-form-row[data-for="${button.dataset.id}"]`);
    if (button.dataset.action === "cancel") {
      close(row);
      return;
    }
    const already = row.dataset.open === button.dataset.action && !row.hidden;
    close(row);
    if (already) return;
    row.dataset.open = button.dataset.action;
    row.querySelector("td").innerHTML = actionForm(button.dataset.action, button.dataset.id);
    row.hidden = false;
    button.setAttribute("aria-expanded", "true");
    row.querySelector("input, textarea")?.focus();
  });
  list.addEventListener("submit", async (event) => {
    const formEl = event.target.closest("form[data-action]");
    if (!formEl) return;
    event.preventDefault();
    const path = `/key-persons/${formEl.dataset.id}`;
    const value = formEl.elements.value.value.trim();
    const sends = {
      leader: () => api.post(`${path}/leader`, { leader: value }),
      visit: () => api.post(`${path}/visits`, { note: value }),
      remove: () => api.post(`${path}/removal`, { reason: value }),
    };
    await act(sends[formEl.dataset.action], "keyPersons.done", formEl);
  });

  function close(row) {
    row.hidden = true;
    row.dataset.open = "";
    row.querySelector("td").innerHTML = "";
    const person = row.previousElementSibling;
    for (const b of person.querySelectorAll("button[aria-expanded]")) b.setAttribute("aria-expanded", "false");
  }

  // Send, then reload the list; a refusal is said in the form that sent it.
  async function act(send, done, formEl) {
    const error = formEl.querySelector(".form-error");
    const button = formEl.querySelector("button[type=submit]");
    error.textContent = "";
    button.disabled = true;
    try {
      await send();
      message.innerHTML = `<p class="action-message msg-ok">${esc(t(done))}</p>`;
      await load();
      return true;
    } catch (failure) {
      error.textContent = api.errorText(failure);
      return false;
    } finally {
      button.disabled = false;
    }
  }

  // Who the leaders are: the subtree's supervisors in one call, any other leader (a county's)
  // one by one; a leader the caller may not read keeps their user id.
  async function learnNames(items) {
    if (keeper && !supervisors.length) {
      try {
        const answer = await api.get(`/users?role=supervisor&active=true&limit=500`);
        supervisors = answer.items.map((m) => ({ user: m.user, name: m.name }));
        for (const m of answer.items) staff.set(m.user, m.name);
      } catch {
        supervisors = [];
      }
    }
    const unknown = [...new Set(items.map((i) => i.leader).filter((l) => l && !staff.has(l)))];
    await Promise.all(
      unknown.map(async (user) => {
        try {
          staff.set(user, (await api.get(`/users/${encodeURIComponent(user)}`)).name);
        } catch {
          staff.set(user, null);
        }
      }),
    );
  }

  async function load() {
    try {
      const answer = await api.get(`/key-persons?state=${encodeURIComponent(chosen)}`);
      await learnNames(answer.items);
      if (stopped) return;
      list.setAttribute("aria-busy", "false");
      list.innerHTML = answer.items.length ? table(answer.items) : `<p class="muted" id="key-persons-empty">${esc(t("keyPersons.empty"))}</p>`;
    } catch (error) {
      if (!stopped) list.innerHTML = `<p class="banner banner-error" role="alert">${esc(api.errorText(error))}</p>`;
    }
  }

  function leaderHtml(leader) {
    if (!leader) return `<span class="muted">${esc(t("keyPersons.leader.none"))}</span>`;
    const known = staff.get(leader);
    return `<span class="kp-leader" title="${esc(leader)}">${esc(known || leader)}</span>`;
  }

  function table(items) {
    const cell = (label, html, cls = "") => `<td data-label="${esc(t(label))}" class="${cls}"><div>${html}</div></td>`;
    const rows = items
      .map((item) => {
        const visit = item.visit_due_at
          ? `${esc(formatZoned(item.visit_due_at))}${item.visit_overdue ? ` <span class="flag flag-supervision_overdue">${esc(t("keyPersons.state.visit_overdue"))}</span>` : ""}`
          : "—";
        const review = `${esc(formatZoned(item.review_at))}${item.review_due ? ` <span class="flag">${esc(t("keyPersons.state.review_due"))}</span>` : ""}`;
        const visits = item.visits ? `<div class="muted small">${esc(t("keyPersons.visits", { n: item.visits }))}</div>` : "";
        return `<tr class="kp-row${item.active ? "" : " kp-removed"}" data-person="${esc(item.id)}">
          <td class="kp-name"><strong>${esc(item.name)}</strong>${item.active ? "" : ` <span class="status">${esc(t("keyPersons.state.removed"))}</span>`}<div class="muted small">${esc(unitName(item.unit))}</div></td>
          ${cell("keyPersons.reason", esc(item.reason), "kp-reason")}
          ${cell("keyPersons.leader", leaderHtml(item.leader), "kp-leader-cell")}
          ${cell("keyPersons.visit", visit + visits, item.visit_overdue ? "late-text kp-visit" : "kp-visit")}
          ${cell("keyPersons.review", review, item.review_due ? "late-text" : "")}
          <td class="kp-actions">${keeper && item.active ? actions(item) : ""}</td>
        </tr>
        <tr class="kp-form-row" data-for="${esc(item.id)}" hidden><td colspan="6"></td></tr>`;
      })
      .join("");
    return `<div class="table-wrap kp-wrap"><table class="key-persons-table">
      <thead><tr><th>${esc(t("keyPersons.name"))}</th><th>${esc(t("keyPersons.reason"))}</th><th>${esc(t("keyPersons.leader"))}</th>
        <th>${esc(t("keyPersons.visit"))}</th><th>${esc(t("keyPersons.review"))}</th><th><span class="visually-hidden">${esc(t("keyPersons.actions"))}</span></th></tr></thead>
      <tbody>${rows}</tbody></table></div>`;
  }

  function actions(item) {
    const id = esc(item.id);
    const button = (action, cls) =>
      `<button type="button" class="${cls}" data-action="${action}" data-id="${id}" aria-expanded="false">${esc(t(`keyPersons.action.${action}`))}</button>`;
    return `<div class="kp-buttons">${button("leader", "secondary small-button")}${button("visit", "secondary small-button")}${button("remove", "danger-outline small-button")}</div>`;
  }

  // The form under a person: the leader (the subtree's supervisors offered by name, any user
  // id accepted), what a visit found, or why the person comes off the list.
  function actionForm(action, id) {
    const fid = `kp-${action}-${id}`;
    let control;
    if (action === "leader") {
      const options = supervisors.map((m) => `<option value="${esc(m.user)}">${esc(m.name)}</option>`).join("");
      control = `<input id="${fid}" name="value" required maxlength="64" list="${fid}-list" autocomplete="off" placeholder="${esc(t("keyPersons.form.leaderHint"))}"><datalist id="${fid}-list">${options}</datalist>`;
    } else {
      control = `<textarea id="${fid}" name="value" required maxlength="500" rows="2"></textarea>`;
    }
    const confirm = action === "remove" ? "danger" : "primary";
    return `<form class="action-form kp-form kp-form-${action}" data-action="${action}" data-id="${esc(id)}">
        <label for="${fid}">${esc(t(`keyPersons.form.${action}`))}</label>
        ${control}
        <p class="form-error" role="alert"></p>
        <div class="form-buttons">
          <button type="submit" class="${confirm}">${esc(t(`keyPersons.confirm.${action}`))}</button>
          <button type="button" class="link" data-action="cancel" data-id="${esc(id)}">${esc(t("clues.dismiss.cancel"))}</button>
        </div>
      </form>`;
  }

  function flagForm() {
    const field = (key, control) => `<div><label for="kp-flag-${key}">${esc(t(`keyPersons.form.${key}`))}</label>${control}</div>`;
    return `<section class="panel kp-flag-panel" aria-labelledby="key-person-flag-title">
      <h2 id="key-person-flag-title">${esc(t("keyPersons.flag"))}</h2>
      <form id="key-person-flag" class="action-form kp-flag-form">
        ${field("name", `<input id="kp-flag-name" name="name" required maxlength="100" autocomplete="off">`)}
        <div class="form-pair">
          ${field("id_number", `<input id="kp-flag-id_number" name="id_number" maxlength="40" autocomplete="off">`)}
          ${field("phone", `<input id="kp-flag-phone" name="phone" type="tel" inputmode="tel" maxlength="40" autocomplete="off">`)}
        </div>
        <small class="field-hint">${esc(t("keyPersons.form.prints"))}</small>
        ${field("reason", `<textarea id="kp-flag-reason" name="reason" required maxlength="500" rows="2"></textarea>`)}
        <div class="form-pair">
          ${field("review_on", `<input id="kp-flag-review_on" name="review_on" type="date" required min="${esc(shanghaiDate(1))}" value="${esc(shanghaiDate(REVIEW_DAYS))}">`)}
        </div>
        <p class="form-error" role="alert"></p>
        <button type="submit" class="primary">${esc(t("keyPersons.flag.submit"))}</button>
      </form>
    </section>`;
  }

  load();
  return () => {
    stopped = true;
  };
}
