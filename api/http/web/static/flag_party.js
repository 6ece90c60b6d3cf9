// 列为重点人员 on the case page: a supervisor flags one of the case's parties as a key person
// (POST /key-persons {case_id, party, reason, review_on}); the reason and the review date are
// asked in a small form under the party's row. The server takes the party's ID number and
// phone from the case (as keyed fingerprints): the page never sees them unmasked.

import * as api from "./api.js";
import { appState } from "./app.js";
import { esc, shanghaiDate, t } from "./i18n.js";

const FLAGGERS = ["supervisor"];
const REVIEW_DAYS = 90;
const COLUMNS = 6; // the parties table's columns, this one included

// The form open (and what was typed) while the case redraws under it.
let open = null; // {caseId, party, reason, review_on}

export function mayFlag() {
  return FLAGGERS.includes(appState().caller.role);
}

export function headerCell() {
  return mayFlag() ? `<th class="flag-party-head"><span class="visually-hidden">${esc(t("flagParty.action"))}</span></th>` : "";
}

// The party's button, and the row under it its form opens in.
export function partyCells(caseId, index) {
  if (!mayFlag()) return { cell: "", row: "" };
  const here = open && open.caseId === caseId && open.party === index;
  const cell = `<td class="flag-party-cell"><button type="button" class="secondary small-button" data-flag-party="${index}" aria-expanded="${here}">${esc(t("flagParty.action"))}</button></td>`;
  const row = `<tr class="flag-party-row" data-party-form="${index}" ${here ? "" : "hidden"}><td colspan="${COLUMNS}">${here ? form(index) : ""}</td></tr>`;
  return { cell, row };
}

function form(index) {
  const id = `flag-party-${index}`;
  const reason = esc(open?.reason || "");
  const review = esc(open?.review_on || shanghaiDate(REVIEW_DAYS));
  return `<form class="action-form flag-party-form" data-party="${index}">
      <label for="${id}-reason">${esc(t("flagParty.reason"))}</label>
      <textarea id="${id}-reason" name="reason" rows="2" maxlength="500" required>${reason}</textarea>
      <label for="${id}-review">${esc(t("flagParty.review"))}</label>
      <input id="${id}-review" name="review_on" type="date" required min="${esc(shanghaiDate(1))}" value="${review}">
      <p class="form-error" role="alert"></p>
      <div class="form-buttons">
        <button type="submit" class="primary">${esc(t("flagParty.submit"))}</button>
        <button type="button" class="link" data-flag-cancel>${esc(t("clues.dismiss.cancel"))}</button>
      </div>
    </form>`;
}

// Listens on the parties panel (once): open, type, cancel, send.
export function wireFlagParty(box, caseId) {
  if (!mayFlag()) return;
  box.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-flag-party]");
    if (button) {
      const index = Number(button.dataset.flagParty);
      const again = open && open.party === index;
      closeAll(box);
      if (again) return;
      open = { caseId, party: index, reason: "", review_on: "" };
      const row = box.querySelector(`tr[data-party-form="${index}"]`);
      row.querySelector("td").innerHTML = form(index);
      row.hidden = false;
      button.setAttribute("aria-expanded", "true");
      row.querySelector("textarea").focus();
    } else if (event.target.closest("[data-flag-cancel]")) {
      closeAll(box);
    }
  });
  box.addEventListener("input", (event) => {
    const formEl = event.target.closest("form.flag-party-form");
    if (formEl && open) Object.assign(open, { reason: formEl.reason.value, review_on: formEl.review_on.value });
  });
  box.addEventListener("submit", async (event) => {
    const formEl = event.target.closest("form.flag-party-form");
    if (!formEl) return;
    event.preventDefault();
    const error = formEl.querySelector(".form-error");
    const button = formEl.querySelector("button[type=submit]");
    const body = { case_id: caseId, party: Number(formEl.dataset.party), reason: formEl.reason.value.trim(), review_on: formEl.review_on.value };
    if (!body.reason) {
      error.textContent = t("flagParty.required");
      return;
    }
    button.disabled = true;
    try {
      await api.post("/key-persons", body);
      const row = formEl.closest("tr");
      open = null;
      row.querySelector("td").innerHTML = `<p class="action-message msg-ok flag-party-done">${esc(t("flagParty.done"))}</p>`;
    } catch (failure) {
      error.textContent = api.errorText(failure);
      button.disabled = false;
    }
  });
}

function closeAll(box) {
  open = null;
  for (const row of box.querySelectorAll("tr[data-party-form]")) {
    row.hidden = true;
    row.querySelector("td").innerHTML = "";
  }
  for (const b of box.querySelectorAll("button[data-flag-party]")) b.setAttribute("aria-expanded", "false");
}
