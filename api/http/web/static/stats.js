// The statistics page: a period, headline numbers, rates as gauges, registrations over time
// by level (stacked bars), categories and channels (bars), the units below, the audit export.
// Charts are inline SVG drawn here; every shape carries its number in a <title>.

import * as api from "./api.js";
import { appState, toast, unitName } from "./app.js";
import { esc, formatNumber, formatPercent, lang, name, shanghaiDate, t } from "./i18n.js";

const PERIOD_KEY = "fengqiao.stats.period";
const EXPORTERS = ["auditor", "supervisor", "admin"];
const LEVELS = ["yellow", "orange", "red"]; // bottom to top
const COLOURS = { red: "#d4380d", orange: "#f08c00", yellow: "#e8b800", resolved: "#1f6f5c" };
const SVG = 'xmlns="http://www.w3.org/2000/svg"';
const MAX_BARS = 12; // more categories than this: the smallest are summed as "others"
const OTHERS = Symbol("others");

function defaultPeriod() {
  return { from: shanghaiDate(-89), to: shanghaiDate(0), bucket: "week" };
}

function loadPeriod() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(PERIOD_KEY));
    if (saved && saved.from && saved.to) return saved;
  } catch {
    // a fresh period
  }
  return defaultPeriod();
}

export function renderStats(container, unit) {
  const state = appState();
  let period = loadPeriod();
  let stopped = false;
  let request = 0;
  const mayExport = EXPORTERS.includes(state.caller.role);
  const parent = state.units.get(unit)?.parent;
  const up = unit !== state.caller.unit && parent && state.units.has(parent) ? parent : null;

  container.innerHTML = `
    <section class="stats" aria-labelledby="stats-title">
      <div class="page-head">
        <div>
          <h1 id="stats-title">${esc(t("stats.title"))}<span class="title-unit"><span class="sep"> · </span>${esc(unitName(unit))}</span></h1>
          ${up ? `<a class="small" href="#/stats/${esc(up)}">${esc(t("stats.up", { name: unitName(up) }))}</a>` : ""}
        </div>
        <form class="period" id="period" novalidate>
          <label>${esc(t("stats.from"))} <input type="date" name="from" required></label>
          <label>${esc(t("stats.to"))} <input type="date" name="to" required></label>
          <label>${esc(t("stats.bucket"))}
            <select name="bucket"><option value="week">${esc(t("stats.week"))}</option><option value="month">${esc(t("stats.month"))}</option></select></label>
          <button type="submit" class="primary">${esc(t("stats.apply"))}</button>
          <span class="quick">
            <button type="button" class="ghost-dark" data-quick="30">${esc(t("stats.last30"))}</button>
            <button type="button" class="ghost-dark" data-quick="90">${esc(t("stats.last90"))}</button>
            <button type="button" class="ghost-dark" data-quick="year">${esc(t("stats.thisYear"))}</button>
          </span>
        </form>
      </div>
      ${
        mayExport
          ? `<div class="export-bar">
              <button type="button" class="secondary" id="export-csv" data-format="csv">⤓ ${esc(t("stats.exportCsv"))}</button>
              <button type="button" class="link" id="export-jsonl" data-format="jsonl">${esc(t("stats.exportJsonl"))}</button>
              <span class="muted small" id="export-status" aria-live="polite"></span>
            </div>`
          : ""
      }
      <p class="banner banner-error" id="stats-error" role="alert" hidden></p>
      <div id="stats-body" aria-busy="true"><p class="muted">${esc(t("stats.loading"))}</p></div>
    </section>`;

  const form = container.querySelector("#period");
  const fill = () => {
    form.from.value = period.from;
    form.to.value = period.to;
    form.bucket.value = period.bucket;
  };
  fill();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.from.value || !form.to.value) return;
    period = { from: form.from.value, to: form.to.value, bucket: form.bucket.value };
    load();
  });
  for (const button of form.querySelectorAll("[data-quick]")) {
    button.addEventListener("click", () => {
      const quick = button.dataset.quick;
      const to = shanghaiDate(0);
      const from = quick === "year" ? `${to.slice(0, 4)}-01-01` : shanghaiDate(-(Number(quick) - 1));
      period = { from, to, bucket: quick === "30" ? "week" : period.bucket };
      fill();
      load();
    });
  }
  for (const button of container.querySelectorAll("[data-format]")) {
    button.addEventListener("click", () => exportTrail(button));
  }

  async function exportTrail(button) {
    const status = container.querySelector("#export-status");
    const format = button.dataset.format;
    button.disabled = true;
    status.textContent = t("stats.exporting");
    const query = new URLSearchParams({ unit, format, from: period.from, to: period.to });
    try {
      const saved = await api.download(`/audit/export?${query}`, `audit-${unit}.${format}`);
      status.textContent = t("stats.exported", { name: saved.filename });
      status.dataset.file = saved.filename;
    } catch (error) {
      status.textContent = "";
      toast(api.errorText(error), "error");
    } finally {
      button.disabled = false;
    }
  }

  async function load() {
    sessionStorage.setItem(PERIOD_KEY, JSON.stringify(period));
    const mine = ++request;
    const body = container.querySelector("#stats-body");
    const banner = container.querySelector("#stats-error");
    body.setAttribute("aria-busy", "true");
    const query = new URLSearchParams(period);
    try {
      const stats = await api.get(`/stats/${encodeURIComponent(unit)}?${query}`);
      if (stopped || mine !== request) return;
      banner.hidden = true;
      body.innerHTML = page(stats);
      shown = stats;
      drawSeries();
      body.setAttribute("aria-busy", "false");
    } catch (error) {
      if (stopped || mine !== request) return;
      banner.hidden = false;
      banner.textContent = api.errorText(error);
      body.setAttribute("aria-busy", "false");
    }
  }

  let shown = null;
  let lastWidth = 0;
  function drawSeries() {
    const box = container.querySelector("#series-chart");
    if (!box || !shown) return;
    lastWidth = box.clientWidth;
    box.innerHTML = seriesChart(shown.series, lastWidth);
  }
  let resizeTimer = null;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const box = container.querySelector("#series-chart");
      if (box && Math.abs(box.clientWidth - lastWidth) > 8) drawSeries();
    }, 150);
  };
  window.addEventListener("resize", onResize);

  load();
  return () => {
    stopped = true;
    window.removeEventListener("resize", onResize);
    clearTimeout(resizeTimer);
  };
}

// --- the page -------------------------------------------------------------------------------

function page(s) {
  return `
    <div class="kpis">${kpis(s)}</div>
    <section class="panel" aria-labelledby="rates-title">
      <h2 id="rates-title">${esc(t("stats.rates"))}</h2>
      <div class="gauges" id="gauges">
        ${gauge("resolution_rate", t("stats.resolutionRate"), s.resolution_rate, true)}
        ${gauge("local_resolution_rate", t("stats.localRate"), s.local_resolution_rate, true)}
        ${gauge("on_time_rate", t("stats.onTimeRate"), s.on_time_rate, true)}
        ${gauge("escalation_rate", t("stats.escalationRate"), s.escalation_rate, false)}
        ${gauge("county_share", t("stats.countyShare"), s.county_share, false)}
      </div>
    </section>
    <section class="panel" aria-labelledby="series-title">
      <div class="panel-head"><h2 id="series-title">${esc(t("stats.series"))}</h2>${legend()}</div>
      <div class="chart" id="series-chart"></div>
      <p class="muted small">${esc(t("stats.hint"))}</p>
    </section>
    <div class="two">
      <section class="panel" aria-labelledby="category-title">
        <h2 id="category-title">${esc(t("stats.byCategory"))}</h2>
        <div class="chart" id="category-chart">${barChart(Object.entries(s.by_category), (k) => k)}</div>
      </section>
      <section class="panel" aria-labelledby="channel-title">
        <h2 id="channel-title">${esc(t("stats.byChannel"))}</h2>
        <div class="chart" id="channel-chart">${barChart(Object.entries(s.by_channel), (k) => name("channel", k))}</div>
        <h3 class="sub">${esc(t("stats.byKind"))}</h3>
        <div class="chart" id="kind-chart">${barChart(Object.entries(s.by_kind), (k) => name("kind", k))}</div>
      </section>
    </div>
    <section class="panel" aria-labelledby="children-title">
      <h2 id="children-title">${esc(t("stats.children"))}</h2>
      ${childrenTable(s.children)}
    </section>`;
}

function hoursText(hours) {
  if (hours === null || hours === undefined) return "—";
  if (hours >= 48) return t("stats.days", { n: (hours / 24).toFixed(1) });
  return t("stats.hours", { n: hours.toFixed(1) });
}

function kpis(s) {
  const tiles = [
    ["registered", t("stats.registered"), formatNumber(s.registered), ""],
    ["resolved", t("stats.resolved"), formatNumber(s.resolved), ""],
    ["terminated", t("stats.terminated"), formatNumber(s.terminated), ""],
    ["referred", t("stats.referred"), formatNumber(s.referred), ""],
    ["overdue_open", t("stats.overdueOpen"), formatNumber(s.overdue_open), s.overdue_open ? "bad" : ""],
    ["median", t("stats.medianHours"), hoursText(s.median_hours_to_resolve), ""],
    ["satisfaction", t("stats.satisfaction"), formatPercent(s.satisfaction_rate), ""],
    ["reopen", t("stats.reopen"), formatPercent(s.reopen_rate), ""],
  ];
  return tiles
    .map(
      ([key, label, value, tone]) =>
        `<div class="kpi ${tone}" data-kpi="${key}"><span class="kpi-value">${esc(value)}</span><span class="kpi-label">${esc(label)}</span></div>`,
    )
    .join("");
}

// A half-circle gauge; ``good`` says whether more is better (green) or worse (amber).
function gauge(key, label, value, good) {
  const r = 52;
  const cx = 70;
  const cy = 66;
  const arc = (fraction) => {
    const angle = Math.PI * (1 - fraction);
    const x = cx + r * Math.cos(angle);
    const y = cy - r * Math.sin(angle);
    return `M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`;
  };
  const has = value !== null && value !== undefined;
  const fraction = has ? Math.min(1, Math.max(0, value)) : 0;
  const colour = good ? (fraction >= 0.8 ? "#1f8a5b" : fraction >= 0.5 ? "#c98a00" : "#c4320a") : fraction <= 0.2 ? "#1f8a5b" : fraction <= 0.5 ? "#c98a00" : "#c4320a";
  const text = has ? formatPercent(value) : "—";
  const tip = `${label}: ${has ? formatPercent(value) : t("stats.noData")}`;
  return `
    <figure class="gauge" data-rate="${key}">
      <svg ${SVG} viewBox="0 0 140 84" role="img" aria-label="${esc(tip)}">
        <title>${esc(tip)}</title>
        <path d="${arc(1)}" class="gauge-track" fill="none" stroke-width="14" stroke-linecap="round"/>
        ${has && fraction > 0 ? `<path d="${arc(fraction)}" fill="none" stroke="${colour}" stroke-width="14" stroke-linecap="round"><title>${esc(tip)}</title></path>` : ""}
        <text x="${cx}" y="${cy - 6}" text-anchor="middle" class="gauge-value">${esc(text)}</text>
        <text x="${cx}" y="${cy + 14}" text-anchor="middle" class="gauge-sub">${has ? "" : esc(t("stats.noData"))}</text>
      </svg>
      <figcaption>${esc(label)}</figcaption>
    </figure>`;
}

function legend() {
  const items = [...LEVELS].reverse().map((level) => [COLOURS[level], name("level", level), "box"]);
  items.push([COLOURS.resolved, t("stats.resolved"), "line"]);
  return `<ul class="legend">${items
    .map(
      ([colour, label, kind]) =>
        `<li><span class="swatch ${kind}" style="--c:${colour}"></span>${esc(label)}</li>`,
    )
    .join("")}</ul>`;
}

// A round step for about five grid lines up to ``value``.
function niceStep(value) {
  const rough = value / 5;
  const power = 10 ** Math.floor(Math.log10(Math.max(1, rough)));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return Math.max(1, m * power);
  return 10 * power;
}

function shortLabel(label) {
  const week = /^(\d{4})-W(\d{2})$/.exec(label);
  if (week) return lang() === "en" ? `W${week[2]}` : `${Number(week[2])}周`;
  const month = /^(\d{4})-(\d{2})$/.exec(label);
  if (month) return lang() === "en" ? label : `${Number(month[2])}月`;
  return label;
}

// Stacked bars of registrations per bucket by level, with a line of resolutions.
function seriesChart(series, width) {
  if (!series.length) return `<p class="muted">${esc(t("stats.nothing"))}</p>`;
  const W = Math.max(300, Math.round(width || 900));
  const H = Math.round(Math.min(300, Math.max(200, W * 0.3)));
  const m = { top: 22, right: 12, bottom: 34, left: 40 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const step = niceStep(Math.max(1, ...series.map((p) => Math.max(p.registered, p.resolved))));
  const top = step * Math.max(1, Math.ceil(Math.max(1, ...series.map((p) => Math.max(p.registered, p.resolved))) / step));
  const y = (v) => m.top + plotH - (v / top) * plotH;
  const band = plotW / series.length;
  const barW = Math.max(4, Math.min(46, band * 0.62));
  const every = Math.ceil(series.length / Math.max(2, Math.floor(plotW / 56)));
  const ticks = [];
  for (let v = 0; v <= top; v += step) ticks.push(v);
  const parts = [];
  for (const tick of ticks) {
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(tick)}" y2="${y(tick)}" class="grid"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(tick) + 4}" text-anchor="end" class="axis">${tick}</text>`);
  }
  const line = [];
  series.forEach((point, i) => {
    const x = m.left + band * i + (band - barW) / 2;
    let base = 0;
    const when = `${point.label}（${point.start.slice(0, 10)} – ${point.end.slice(0, 10)}）`;
    for (const level of LEVELS) {
      const n = point.registered_by_level[level] || 0;
      if (!n) continue;
      const y0 = y(base);
      const y1 = y(base + n);
      parts.push(
        `<rect class="bar seg-${level}" data-level="${level}" data-value="${n}" x="${x.toFixed(1)}" y="${y1.toFixed(1)}" width="${barW.toFixed(1)}" height="${(y0 - y1).toFixed(1)}" fill="${COLOURS[level]}"><title>${esc(`${when} ${name("level", level)}: ${n}`)}</title></rect>`,
      );
      base += n;
    }
    if (point.registered) {
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(y(point.registered) - 5).toFixed(1)}" text-anchor="middle" class="bar-total">${point.registered}</text>`,
      );
    }
    if (i % every === 0) {
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle" class="axis">${esc(shortLabel(point.label))}<title>${esc(when)}</title></text>`,
      );
    }
    line.push([x + barW / 2, y(point.resolved), point, when]);
  });
  parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(0)}" y2="${y(0)}" class="baseline"/>`);
  if (line.length > 1) {
    parts.push(
      `<polyline class="resolved-line" fill="none" stroke="${COLOURS.resolved}" stroke-width="2" points="${line.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")}"/>`,
    );
  }
  for (const [px, py, point, when] of line) {
    parts.push(
      `<circle class="resolved-dot" cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="#fff" stroke="${COLOURS.resolved}" stroke-width="2"><title>${esc(`${when} ${t("stats.resolved")}: ${point.resolved}`)}</title></circle>`,
    );
  }
  return `<svg ${SVG} viewBox="0 0 ${W} ${H}" class="series" role="img" aria-label="${esc(t("stats.series"))}">${parts.join("")}</svg>`;
}

// Horizontal bars, largest first: the labels and numbers are text beside SVG bars, so they
// stay readable at any width.
function barChart(entries, label) {
  const sorted = entries.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  if (!sorted.length) return `<p class="muted">${esc(t("stats.nothing"))}</p>`;
  const rows = sorted.length > MAX_BARS ? sorted.slice(0, MAX_BARS - 1) : sorted;
  if (sorted.length > MAX_BARS) {
    const rest = sorted.slice(MAX_BARS - 1);
    rows.push([OTHERS, rest.reduce((sum, [, n]) => sum + n, 0)]);
  }
  const max = Math.max(...rows.map(([, n]) => n));
  return `<div class="hbars">${rows
    .map(([key, n]) => {
      const text = key === OTHERS ? t("stats.others") : label(key);
      const width = Math.max(0.5, (n / max) * 100);
      return `<div class="hbar" data-key="${key === OTHERS ? "" : esc(key)}" data-value="${n}" title="${esc(`${text}: ${n}`)}">
        <span class="bar-label">${esc(text)}</span>
        <svg ${SVG} viewBox="0 0 100 10" preserveAspectRatio="none" class="hbar-svg" role="img" aria-label="${esc(`${text}: ${n}`)}">
          <rect x="0" y="0" width="${width.toFixed(2)}" height="10" rx="0.8" class="hbar-rect"><title>${esc(`${text}: ${n}`)}</title></rect>
        </svg>
        <span class="bar-value">${n}</span>
      </div>`;
    })
    .join("")}</div>`;
}

function levelStrip(byLevel) {
  const total = LEVELS.reduce((sum, level) => sum + (byLevel[level] || 0), 0);
  if (!total) return `<span class="muted">0</span>`;
  const W = 90;
  let x = 0;
  const rects = [...LEVELS]
    .reverse()
    .map((level) => {
      const n = byLevel[level] || 0;
      const w = (n / total) * W;
      const rect = n
        ? `<rect x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="10" fill="${COLOURS[level]}"><title>${esc(`${name("level", level)}: ${n}`)}</title></rect>`
        : "";
      x += w;
      return rect;
    })
    .join("");
  return `<span class="strip"><svg ${SVG} viewBox="0 0 ${W} 10" width="${W}" height="10" role="img">${rects}</svg><b>${total}</b></span>`;
}

function childrenTable(children) {
  if (!children.length) return `<p class="muted">—</p>`;
  const state = appState();
  const head = [
    t("stats.unit"),
    t("stats.registered"),
    t("stats.resolved"),
    t("stats.resolutionRate"),
    t("stats.localRate"),
    t("stats.onTimeRate"),
    t("stats.escalationRate"),
    t("stats.overdueOpen"),
    t("stats.satisfaction"),
  ];
  const rows = children
    .map((c) => {
      const drill = state.units.get(c.unit)?.children?.length
        ? `<a href="#/stats/${esc(c.unit)}" title="${esc(t("stats.drill"))}">${esc(unitName(c.unit))}</a>`
        : esc(unitName(c.unit));
      return `<tr data-unit="${esc(c.unit)}">
        <th scope="row">${drill}</th>
        <td>${levelStrip(c.registered_by_level)}</td>
        <td class="num">${formatNumber(c.resolved)}</td>
        <td class="num">${formatPercent(c.resolution_rate)}</td>
        <td class="num">${formatPercent(c.local_resolution_rate)}</td>
        <td class="num">${formatPercent(c.on_time_rate)}</td>
        <td class="num">${formatPercent(c.escalation_rate)}</td>
        <td class="num ${c.overdue_open ? "bad" : ""}">${formatNumber(c.overdue_open)}</td>
        <td class="num">${formatPercent(c.satisfaction_rate)}</td>
      </tr>`;
    })
    .join("");
  return `<div class="table-wrap"><table class="rollup" id="children-table">
    <thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join("")}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}
