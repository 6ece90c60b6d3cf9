// Talking to /api/v1: the bearer token, problem+json errors, commands, the queue stream.

import { fieldName, lang, name, t, translateDetail } from "./i18n.js";

const TOKEN_KEY = "fengqiao.token";
const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export class NetworkError extends Error {}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// The JWT's payload (base64url JSON): sub, role, unit (at the top or under "extras"), exp. An
// identity provider's token names only the user: the server says the role and unit (/users/me).
export function decodeToken(value) {
  const parts = String(value || "").trim().split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replaceAll("-", "+").replaceAll("_", "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes));
    const extras = payload.extras || {};
    const role = payload.role ?? extras.role;
    const unit = payload.unit ?? extras.unit;
    if (!payload.sub) return null;
    return { sub: payload.sub, role, unit, exp: payload.exp };
  } catch {
    return null;
  }
}

export function caller() {
  return decodeToken(token());
}

// A fresh key for each command sent (crypto.randomUUID needs a secure context; plain http on a
// LAN address is not one, so fall back to random bytes).
export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function authHeaders(extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  return headers;
}

async function problemOf(response) {
  const text = await response.text().catch(() => "");
  try {
    return JSON.parse(text);
  } catch {
    return { title: response.statusText, detail: text.slice(0, 300), status: response.status };
  }
}

function unauthorized() {
  window.dispatchEvent(new CustomEvent("fengqiao:unauthorized"));
}

async function send(path, options) {
  let response;
  try {
    response = await fetch(BASE + path, { cache: "no-store", ...options });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new NetworkError(error.message);
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401) unauthorized();
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function get(path, { signal } = {}) {
  const response = await send(path, { headers: authHeaders(), signal });
  return response.json();
}

// A JSON POST that is not a case command (marking notices read).
export async function post(path, body) {
  const headers = authHeaders({ "Content-Type": "application/json" });
  const response = await send(path, { method: "POST", headers, body: JSON.stringify(body) });
  return response.json();
}

// POST /cases/{id}/<command>: an Idempotency-Key each time, If-Match the version shown.
export async function command(caseId, name, body, version) {
  const headers = authHeaders({ "Idempotency-Key": newKey() });
  if (version !== undefined && version !== null) headers["If-Match"] = `"${version}"`;
  const options = { method: "POST", headers };
  if (body !== undefined && body !== null) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await send(`/cases/${encodeURIComponent(caseId)}/${name}`, options);
  return response.json();
}

// The file name a Content-Disposition gives: the UTF-8 one (RFC 6266 filename*, a Chinese
// name) before the ASCII stand-in beside it.
function dispositionName(disposition) {
  const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (utf8) {
    try {
      return decodeURIComponent(utf8[1].trim());
    } catch {
      // a malformed escape: fall back to the plain name
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : "";
}

// A response as sent (a document's print view), with the bearer token.
export async function fetchRaw(path) {
  return send(path, { headers: authHeaders({ Accept: "*/*" }) });
}

// A file the server sends (e.g. the audit export), saved through a Blob URL.
export async function download(path, fallbackName) {
  const response = await send(path, { headers: authHeaders({ Accept: "*/*" }) });
  const disposition = response.headers.get("content-disposition") || "";
  const filename = dispositionName(disposition) || fallbackName;
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return { filename, size: blob.size };
}

// The queue stream of a unit's subtree.
export function openQueueStream(unit, handlers) {
  return openStream(`/stream/queues/${encodeURIComponent(unit)}`, handlers);
}

// A stream of server-sent events (the queue's, the bell's) read with fetch, since EventSource
// cannot send the Authorization header. Calls onOpen when the server says "ready", onEvent per
// other event, onDown(error) when the stream is not there or dropped; reconnects until close().
export function openStream(path, { onOpen, onEvent, onDown }) {
  const controller = new AbortController();
  let retry = 2000;
  let failures = 0;

  async function readOnce() {
    const response = await fetch(`${BASE}${path}`, {
      headers: authHeaders({ Accept: "text/event-stream" }),
      cache: "no-store",
      signal: controller.signal,
    });
    if (!response.ok || !response.body) {
      if (response.status === 401) unauthorized();
      throw new ApiError(response.status, await problemOf(response));
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = { type: "message", data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (event.data.length) dispatch(event.type, event.data.join("\n"));
          event = { type: "message", data: [] };
          continue;
        }
        if (line.startsWith(":")) continue; // a keep-alive comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let data = colon < 0 ? "" : line.slice(colon + 1);
        if (data.startsWith(" ")) data = data.slice(1);
        if (field === "data") event.data.push(data);
        else if (field === "event") event.type = data;
        else if (field === "retry" && /^\d+$/.test(data)) retry = Number(data);
      }
    }
  }

  function dispatch(type, data) {
    let parsed = null;
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = data;
    }
    if (type === "ready") {
      failures = 0;
      onOpen?.(parsed);
    } else {
      onEvent?.(type, parsed);
    }
  }

  (async () => {
    while (!controller.signal.aborted) {
      try {
        await readOnce();
        if (!controller.signal.aborted) onDown?.(new NetworkError("stream ended"));
      } catch (error) {
        if (controller.signal.aborted) return;
        onDown?.(error);
        failures += 1;
      }
      // a stream that ended is reopened soon; one that keeps failing, less and less often
      const wait = Math.min(retry * Math.max(1, failures), 15000);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  return { close: () => controller.abort() };
}

// What went wrong, in the reader's words. ``action`` is the command's key (e.g. "sign").
export function errorText(error, action = "") {
  if (error instanceof NetworkError || error?.name === "TypeError") return t("err.network");
  if (!(error instanceof ApiError)) return String(error?.message || error);
  const p = error.problem || {};
  const detail = translateDetail(p.detail || p.title || "");
  switch (error.status) {
    case 401:
      return t("err.401");
    case 403:
      return t("err.403", { detail });
    case 404:
      return t("err.404", { detail });
    case 409:
      if (p.current_version !== undefined) return t("err.version", { version: p.current_version });
      if (p.case_status) {
        const sentence = t("err.notAllowed", {
          status: name("status", p.case_status),
          action: action ? t(`action.${action}`) : p.command || "",
        });
        const why = p.detail && p.detail.includes(": ") ? translateDetail(p.detail.slice(p.detail.indexOf(": ") + 2)) : "";
        if (!why) return sentence;
        return lang() === "en" ? `${sentence} (${why})` : `${sentence}（${why}）`;
      }
      return t("err.generic", { status: 409, detail });
    case 400:
    case 422:
      if (p.field) {
        return t("err.field", { field: fieldName(p.field, action), reason: translateDetail(p.reason || detail) });
      }
      return t("err.input", { detail });
    default:
      if (error.status >= 500) return t("err.server", { status: error.status });
      return t("err.generic", { status: error.status, detail });
  }
}
