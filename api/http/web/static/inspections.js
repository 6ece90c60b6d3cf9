// 督查回访: the cases a township's monthly draw sampled in the caller's subtree, those awaiting
// their callback first (soonest due), with their due time in 北京时间 and state. A row opens
// the case, where an inspector records the callback.

import * as api from "./api.js";
import { appState, unitName } from "./app.js";
import { esc, formatZoned, name, t } from "./i18n.js";

const STATES = ["", "pending", "overdue", "done", "done_late"];
const STATE_TONE = { pending: "st-registered", overdue: "st-rejected", done: "st-resolved", done_late: "st-reopened" };

export function renderInspections(container) {
  const state = appState();
  let stopped = false;
  let chosen = "";

  container.innerHTML = `
    <section class="inspections" aria-labelledby="inspections-title">
      <div class="page-head">
        <h1 id="inspections-title">${esc(t("inspections.title"))}<span class="title-unit"><span class="sep"> · </span>${esc(unitName(state.caller.unit))}</span></h1>
        <label class="small">${esc(t("inspections.state"))}
          <select id="inspections-state">${STATES.map((s) => `<option value="${s}">${esc(s ? name("inspectionState", s) : t("inspections.all"))}</option>`).join("")}</select>
        </label>
      </div>
      <p class="muted small">${esc(t("inspections.lead"))}</p>
      <div id="inspections-list" aria-busy="true"><p class="muted">${esc(t("case.loading"))}</p></div>
    </section>`;
  const list = container.querySelector("#inspections-list");
  container.querySelector("#inspections-state").addEventListener("change", (event) => {
    chosen = event.target.value;
    load();
  });

  async function load() {
    const query = chosen ? `?state=${encodeURIComponent(chosen)}` : "";
    try {
      const answer = await api.get(`/inspections${query}`);
      if (stopped) return;
      list.setAttribute("aria-busy", "false");
      list.innerHTML = answer.items.length ? table(answer.items) : `<p class="muted" id="inspections-empty">${esc(t("inspections.empty"))}</p>`;
    } catch (error) {
      if (!stopped) list.innerHTML = `<p class="banner banner-error" role="alert">${esc(api.errorText(error))}</p>`;
    }
  }

  function table(items) {
    const rows = items
      .map(
        (item) => `<tr data-case="${esc(item.case)}" data-state="${esc(item.state)}">
          <td><a href="#/cases/${esc(item.case)}">${esc(item.number || item.case.slice(0, 8))}</a><div class="muted small">${esc(item.summary)}</div></td>
          <td>${esc(unitName(item.township))} · ${esc(item.month)}</td>
          <td>${esc(unitName(item.owner))}</td>
          <td class="${item.state === "overdue" ? "late-text" : ""}">${esc(formatZoned(item.due_at))}</td>
          <td><span class="status ${STATE_TONE[item.state] || ""}">${esc(name("inspectionState", item.state))}</span></td>
          <td>${esc(found(item))}</td>
        </tr>`,
      )
      .join("");
    return `<div class="table-wrap"><table class="inspections-table">
      <thead><tr><th>${esc(t("inspections.case"))}</th><th>${esc(t("inspections.draw"))}</th><th>${esc(t("case.owner"))}</th>
        <th>${esc(t("inspections.due"))}</th><th>${esc(t("inspections.state"))}</th><th>${esc(t("inspections.found"))}</th></tr></thead>
      <tbody>${rows}</tbody></table></div>`;
  }

  // What the callback found: reached (satisfied?), or not reached; sent back for rework.
  function found(item) {
    if (!item.recorded_at) return "—";
    const said = item.reached ? t(item.satisfied ? "inspections.satisfied" : "inspections.dissatisfied") : t("inspections.unreached");
    return item.rework ? `${said} · ${t("inspections.rework")}` : said;
  }

  load();
  return () => {
    stopped = true;
  };
}
