// 排查 (#/screening): the completion grid of the caller's unit (its villages × the last six
// periods, each cell filed / 零报告 / late / missed / pending / not owed), a header line with this
// period's due time in 北京时间 and its on-time share, the township's queue of missing reports,
// and — for the staff of a village — the form that files this period's report: the clues found
// there, or a 零报告 with its declaration. The grid scrolls sideways on a phone, the village
// column staying put.

import * as api from "./api.js";
import { appState, unitName } from "./app.js";
import { esc, formatPercent, formatZoned, t } from "./i18n.js";

// who may file a village's report (the server decides: a reporter of the village or one of its
// grids; a mediator, supervisor or admin of the village or above — here, of the village)
const FILERS = ["reporter", "mediator", "supervisor", "admin"];
const PERIODS = 6;
const DECLARATION = "本期经排查，未发现矛盾纠纷。";
const DONE = ["filed", "zero", "late"];

export function renderScreening(container) {
  const state = appState();
  let stopped = false;
  const village = villageOf(state.caller.unit);
  const mayFile = FILERS.includes(state.caller.role) && village !== null;

  container.innerHTML = `
    <section class="screening" aria-labelledby="screening-title">
      <div class="page-head">
        <h1 id="screening-title">${esc(t("screening.title"))}<span class="title-unit"><span class="sep"> · </span>${esc(unitName(state.caller.unit))}</span></h1>
      </div>
      <p class="muted small">${esc(t("screening.lead"))}</p>
      <div id="screening-summary" class="screening-summary" aria-live="polite"></div>
      <div id="screening-message" role="status"></div>
      ${mayFile ? `<div id="screening-file" class="panel screening-file"><p class="muted">${esc(t("case.loading"))}</p></div>` : ""}
      <div class="panel">
        <div class="panel-head"><h2>${esc(t("screening.grid"))}</h2>${legend()}</div>
        <div id="screening-grid" aria-busy="true"><p class="muted">${esc(t("case.loading"))}</p></div>
      </div>
      <div class="panel">
        <h2>${esc(t("screening.missing"))}</h2>
        <p class="muted small">${esc(t("screening.missing.lead"))}</p>
        <div id="screening-missing" aria-busy="true"><p class="muted">${esc(t("case.loading"))}</p></div>
      </div>
    </section>`;
  const summary = container.querySelector("#screening-summary");
  const gridBox = container.querySelector("#screening-grid");
  const missingBox = container.querySelector("#screening-missing");
  const message = container.querySelector("#screening-message");
  const fileBox = container.querySelector("#screening-file");

  async function load() {
    const unit = encodeURIComponent(state.caller.unit);
    try {
      const [grid, numbers, missing] = await Promise.all([
        api.get(`/screening/completion?unit=${unit}&periods=${PERIODS}`),
        api.get(`/screening/statistics?unit=${unit}`),
        api.get(`/screening/missing?unit=${unit}`),
      ]);
      if (stopped) return;
      const names = new Map(grid.rows.map((row) => [row.village, row.name]));
      summary.innerHTML = summaryLine(numbers);
      gridBox.setAttribute("aria-busy", "false");
      gridBox.innerHTML = grid.rows.length ? table(grid) : `<p class="muted" id="screening-empty">${esc(t("screening.noVillages"))}</p>`;
      // on a narrow screen the latest periods are the ones to see first
      const wrap = gridBox.querySelector(".screening-wrap");
      if (wrap) wrap.scrollLeft = wrap.scrollWidth;
      missingBox.setAttribute("aria-busy", "false");
      missingBox.innerHTML = missingList(missing.items, names);
      if (fileBox) await showForm(grid, numbers);
    } catch (error) {
      if (!stopped) gridBox.innerHTML = `<p class="banner banner-error" role="alert">${esc(api.errorText(error))}</p>`;
    }
  }

  // 本期 2026-12 · 截止 2026-12-25 24:00 北京时间 · 按时上报 66.7%（2/3）· 逾期补报 · 未报 · 待报
  function summaryLine(n) {
    const share = n.on_time_share === null ? "—" : formatPercent(n.on_time_share);
    const chip = (key, value, tone = "") => `<span class="chip ${tone}" data-count="${key}">${esc(t(`screening.count.${key}`))} <b>${esc(value)}</b></span>`;
    return `<p class="summary-line" id="screening-period" data-period="${esc(n.period)}">
        <span class="chip chip-total">${esc(t("screening.period", { period: n.period }))}</span>
        <span>${esc(t("screening.due"))} <strong id="screening-due">${esc(dueText(n.due_at))}</strong></span>
        <span class="chip screening-share" id="screening-share">${esc(t("screening.onTime"))} <b>${esc(share)}</b>${n.villages ? `（${esc(n.on_time)}/${esc(n.villages)}）` : ""}</span>
        ${chip("late", n.late, n.late ? "chip-late" : "")}
        ${chip("missing", n.missing, n.missing ? "chip-overdue has" : "")}
        ${chip("pending", n.pending)}
        ${chip("zero", n.zero)}
        ${chip("clues", n.clues)}
      </p>`;
  }

  function table(grid) {
    const current = grid.periods.length - 1;
    const head = grid.periods
      .map((period, i) => `<th scope="col" class="${i === current ? "current" : ""}" data-period="${esc(period)}">${esc(period)}<div class="muted small">${esc(t("screening.dueShort"))} ${esc(dueText(grid.due[i], true))}</div></th>`)
      .join("");
    const rows = grid.rows
      .map((row) => {
        const cells = row.cells.map((cell, i) => gridCell(row, cell, i === current)).join("");
        // a county's grid says each village's township; a township's, each village's code
        const under = row.township && row.township !== grid.unit ? `<div class="muted small">${esc(unitName(row.township))}</div>` : `<div class="muted small mono">${esc(row.village)}</div>`;
        return `<tr data-village="${esc(row.village)}"><th scope="row" class="village">${esc(row.name)}${under}</th>${cells}</tr>`;
      })
      .join("");
    return `<div class="table-wrap screening-wrap"><table class="screening-grid">
      <thead><tr><th scope="col" class="village">${esc(t("screening.village"))}</th>${head}</tr></thead>
      <tbody>${rows}</tbody></table></div>`;
  }

  function gridCell(row, cell, current) {
    const label = t(`screening.state.${cell.state}`);
    // the second line: how many clues a filed report listed; a late one says whether it was a 零报告
    let sub = "";
    if (cell.state === "filed" || (cell.state === "late" && !cell.zero)) sub = t("screening.clues", { n: cell.clues });
    if (cell.state === "late" && cell.zero) sub = t("screening.state.zero");
    const mark = cell.state === "zero" ? `<span class="zero-mark" aria-hidden="true">〇</span>` : "";
    const when = cell.filed_at ? `${t("screening.filedAt")} ${formatZoned(cell.filed_at)}` : label;
    return `<td class="cell cell-${esc(cell.state)}${current ? " current" : ""}" data-period="${esc(cell.period)}" data-state="${esc(cell.state)}" title="${esc(`${row.name} ${cell.period} · ${when}`)}">${mark}<span class="cell-text">${esc(label)}</span>${sub ? `<span class="cell-sub">${esc(sub)}</span>` : ""}</td>`;
  }

  function missingList(items, names) {
    if (!items.length) return `<p class="muted" id="screening-missing-empty">${esc(t("screening.missing.empty"))}</p>`;
    const rows = items
      .map(
        (item) => `<li class="missing-item" data-village="${esc(item.village)}" data-period="${esc(item.period)}">
          <span class="status st-missed">${esc(t("screening.state.missed"))}</span>
          <strong>${esc(names.get(item.village) || unitName(item.village))}</strong>
          <span class="muted">${esc(unitName(item.township))}</span>
          <span>${esc(item.period)}</span>
          <span class="muted small">${esc(t("screening.due"))} ${esc(dueText(item.due_at))}</span>
        </li>`,
      )
      .join("");
    return `<ul class="missing-list">${rows}</ul>`;
  }

  // --- filing -------------------------------------------------------------------------------

  async function showForm(grid, numbers) {
    const row = grid.rows.find((r) => r.village === village);
    const cells = row ? row.cells : [];
    const now = cells.find((c) => c.period === numbers.period);
    // this period, unless filed; and earlier periods still missed (filed now, they are late)
    const open = [];
    if (!now || !DONE.includes(now.state)) open.push(numbers.period);
    for (const cell of [...cells].reverse()) {
      if (cell.period !== numbers.period && cell.state === "missed") open.push(cell.period);
    }
    if (!open.length) {
      fileBox.innerHTML = `<h2>${esc(t("screening.file"))}</h2><p class="screening-done" id="screening-done">${esc(t("screening.filed", { period: numbers.period }))}</p>`;
      return;
    }
    let clues = [];
    try {
      clues = (await api.get(`/clues?unit=${encodeURIComponent(state.caller.unit)}&limit=1000`)).items;
    } catch {
      // the form still files a 零报告
    }
    if (stopped) return;
    fileBox.innerHTML = `
      <h2>${esc(t("screening.file"))} · ${esc(unitName(village))}</h2>
      <form id="screening-form" class="screening-form">
        <label>${esc(t("screening.file.period"))}
          <select name="period" id="screening-form-period">${open.map((p) => `<option value="${esc(p)}">${esc(p === numbers.period ? t("screening.file.current", { period: p }) : t("screening.file.late", { period: p }))}</option>`).join("")}</select>
        </label>
        <fieldset class="screening-choice">
          <legend>${esc(t("screening.file.what"))}</legend>
          <label><input type="radio" name="kind" value="clues" checked /> ${esc(t("screening.file.clues"))}</label>
          <label><input type="radio" name="kind" value="zero" /> ${esc(t("screening.file.zero"))}</label>
        </fieldset>
        <div id="screening-clues"></div>
        <label id="screening-declaration" hidden>${esc(t("screening.file.declaration"))}
          <textarea name="declaration" rows="3" maxlength="2000">${esc(DECLARATION)}</textarea>
        </label>
        <p class="form-error" id="screening-form-error" role="alert" hidden></p>
        <button type="submit" class="primary" id="screening-submit">${esc(t("screening.file.submit"))}</button>
      </form>`;
    const form = fileBox.querySelector("#screening-form");
    const clueBox = form.querySelector("#screening-clues");
    const declaration = form.querySelector("#screening-declaration");
    const drawClues = () => {
      const found = inPeriod(clues, form.period.value);
      clueBox.hidden = form.kind.value === "zero";
      declaration.hidden = form.kind.value !== "zero";
      clueBox.innerHTML = found.length
        ? `<ul class="screening-clue-list">${found.map((c) => `<li><label><input type="checkbox" name="clue" value="${esc(c.id)}" /> <strong>${esc(c.category)}</strong> · ${esc(unitName(c.unit))} · <span class="muted small nowrap">${esc(formatZoned(c.recorded_at))}</span><div class="small">${esc(c.summary)}</div></label></li>`).join("")}</ul>`
        : `<p class="muted small" id="screening-no-clues">${esc(t("screening.file.noClues"))}</p>`;
    };
    drawClues();
    form.addEventListener("change", (event) => {
      if (event.target.name !== "kind" && event.target.name !== "period") return;
      form.querySelector("#screening-form-error").hidden = true; // a refusal of what was there before
      drawClues();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = form.querySelector("#screening-form-error");
      const button = form.querySelector("#screening-submit");
      const zero = form.kind.value === "zero";
      const body = { unit: village, period: form.period.value, zero };
      if (zero) body.declaration = form.declaration.value;
      else body.clue_ids = [...form.querySelectorAll("input[name=clue]:checked")].map((box) => box.value);
      error.hidden = true;
      button.disabled = true;
      try {
        const report = await api.post("/screening/reports", body);
        say(t("screening.file.done", { period: report.period, state: t(`screening.state.${report.state}`) }));
        load();
      } catch (problem) {
        // a refusal says why in the server's words (Chinese by default)
        error.textContent = problem instanceof api.ApiError && problem.status === 422 && problem.problem.detail ? problem.problem.detail : api.errorText(problem);
        error.hidden = false;
        button.disabled = false;
      }
    });
  }

  function say(text) {
    message.innerHTML = `<p class="banner banner-ok">${esc(text)}</p>`;
  }

  load();
  return () => {
    stopped = true;
  };
}

// The village the caller works for: their unit, or the village above their grid; null above one.
function villageOf(code) {
  const { units } = appState();
  let unit = units.get(code);
  while (unit) {
    if (unit.tier === "village") return unit.code;
    if (unit.tier !== "grid") return null;
    unit = units.get(unit.parent);
  }
  return null;
}

// The clues recorded during a period (2026-10, or 2026-Q4), Beijing time.
function inPeriod(clues, period) {
  const [start, end] = bounds(period);
  return clues.filter((c) => {
    const at = new Date(c.recorded_at).getTime();
    return at >= start && at < end;
  });
}

function bounds(period) {
  const quarter = /^(\d{4})-Q([1-4])$/.exec(period);
  const month = /^(\d{4})-(\d{2})$/.exec(period);
  const year = Number((quarter || month)[1]);
  const first = quarter ? (Number(quarter[2]) - 1) * 3 + 1 : Number(month[2]);
  const months = quarter ? 3 : 1;
  const at = (y, m) => Date.UTC(y + Math.floor((m - 1) / 12), (m - 1) % 12, 1) - 8 * 3600 * 1000; // 00:00 北京时间
  return [at(year, first), at(year, first + months)];
}

// The end of the due day, as a notice says it: 2026-12-25 24:00 北京时间 (the instant after it
// is 12-26 00:00, which reads as a day too late).
function dueText(iso, short = false) {
  const when = new Date(iso);
  const shifted = new Date(when.getTime() + 8 * 3600 * 1000); // Beijing wall time, read as UTC
  if (shifted.getUTCHours() === 0 && shifted.getUTCMinutes() === 0) {
    const day = new Date(shifted.getTime() - 86400000);
    const text = `${day.getUTCFullYear()}-${String(day.getUTCMonth() + 1).padStart(2, "0")}-${String(day.getUTCDate()).padStart(2, "0")}`;
    return short ? `${text.slice(5)} 24:00` : `${text} 24:00 ${t("time.zone")}`;
  }
  const full = formatZoned(iso);
  return short ? full.slice(5, 16) : full;
}

function legend() {
  const states = ["filed", "zero", "late", "missed", "pending", "not_owed"];
  return `<ul class="legend screening-legend">${states.map((s) => `<li><span class="cell-swatch cell-${s}" aria-hidden="true"></span>${esc(t(`screening.state.${s}`))}</li>`).join("")}</ul>`;
}
