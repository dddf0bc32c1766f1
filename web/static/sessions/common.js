// Shared by the session pages: texts in the page's language, JSON calls with the CSRF token, and
// the realtime connection.

// The page carries its texts (web/sessions/texts.py) as a JSON data block: t("key", {name: v}).
const TEXTS = JSON.parse(document.getElementById("lt-texts")?.textContent || "{}");
export const LOCALE = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";
const EN = document.documentElement.lang === "en";
/** The server's words for an error, in the page's language. */
export function detailOf(data) {
  return EN ? data.detail || data.detail_vi : data.detail_vi || data.detail;
}
export function t(key, vars = {}) {
  const text = TEXTS[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

const csrf = () => document.querySelector("meta[name=csrf-token]")?.content || "";

export async function api(method, path, body) {
  const init = { method, headers: { "X-CSRF-Token": csrf(), Accept: "application/json" } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(path, init);
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw Object.assign(new Error(detailOf(data) || resp.statusText), { status: resp.status }, data);
  return data;
}

// Everyone invited to a session, with attendance: every page of the desk's /members (the page
// state carries no member list; see docs/sessions.md "Page state").
export async function loadMembers(base) {
  const all = [];
  for (let page = 1; ; page += 1) {
    const r = await api("GET", `${base}/members?page=${page}&per_page=500`);
    all.push(...r.members);
    if (!r.members.length || all.length >= r.total) return all;
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// One WebSocket per page; numbered events with catch-up after a reconnect (the hub's protocol).
export class Realtime {
  constructor(channels, onEvent, { onResync, onStatus } = {}) {
    this.last = Object.fromEntries(channels.map((c) => [c, null]));
    this.onEvent = onEvent;
    this.onResync = onResync || (() => {});
    this.onStatus = onStatus || (() => {});
    this.epoch = undefined;
    this.pending = new Map();
    this.nextRef = 1;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/realtime`);
    this.ws = ws;
    ws.onopen = () => {
      const msg = { op: "subscribe", channels: this.last };
      if (this.epoch) msg.epoch = this.epoch;
      ws.send(JSON.stringify(msg));
    };
    ws.onmessage = (ev) => this.receive(JSON.parse(ev.data));
    ws.onclose = () => {
      this.onStatus(false);
      for (const [, p] of this.pending) p.reject(new Error(t("conn.lost")));
      this.pending.clear();
      // reconnect with jitter so a hall of tablets does not come back in the same millisecond
      setTimeout(() => this.connect(), 500 + Math.random() * 1500);
    };
  }

  receive(msg) {
    if (msg.ref !== undefined && this.pending.has(msg.ref)) {
      const p = this.pending.get(msg.ref);
      this.pending.delete(msg.ref);
      if (msg.op === "error") p.reject(Object.assign(new Error(detailOf(msg)), msg));
      else p.resolve(msg);
      return;
    }
    if (msg.op === "subscribed") {
      this.epoch = msg.epoch;
      for (const [c, seq] of Object.entries(msg.channels)) if (this.last[c] === null) this.last[c] = seq;
      this.onStatus(true);
      return;
    }
    if (msg.channel === undefined) return;
    const seen = this.last[msg.channel];
    if (seen !== null && seen !== undefined && msg.seq <= seen) return;
    this.last[msg.channel] = msg.seq;
    if (msg.type === "resync") this.onResync(msg.channel);
    else this.onEvent(msg);
  }

  request(msg) {
    const ref = `r${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(new Error(t("conn.none")));
        return;
      }
      this.pending.set(ref, { resolve, reject });
      this.ws.send(JSON.stringify({ ...msg, ref }));
    });
  }
}

export const CHOICES = Object.fromEntries(["yes", "no", "abstain"].map((c) => [c, t(`choice.${c}`)]));
export const THRESHOLDS = Object.fromEntries(["majority_all", "two_thirds_all"].map((k) => [k, t(`threshold.${k}`)]));
export const KINDS = Object.fromEntries(["for", "against", "question"].map((k) => [k, t(`kind.${k}`)]));

export function resultText(p) {
  return t("result.counts", p);
}

export function quorumText(q) {
  return `${t("quorum", q)} · ${q.reached ? t("quorum.yes") : t("quorum.no")}`;
}

/** The quorum line, or "the sitting has not started" when no sitting is on (no verdict yet). */
export function quorumLine(state) {
  return state.session.current_sitting_id ? quorumText(state.quorum) : t("quorum.not_started");
}

/** The speaker's time left as "m:ss" (over time: marked), paused or running; "" for nobody. */
export function timerText(s) {
  if (!s) return { text: "", over: false, paused: false };
  const left = s.started_at ? Math.round(s.limit_s - (Date.now() - Date.parse(s.started_at)) / 1000) : s.limit_s;
  const abs = Math.abs(left);
  const text = `${left < 0 ? t("wall.overtime") : ""}${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, "0")}`;
  return { text, over: left < 0, paused: !s.started_at };
}

/** Who can vote, for "… / N đại biểu": the vote's own count once opened, else the session's. */
export function pollTotal(poll, state) {
  return poll.members_total || state.quorum.members_total || 0;
}

/** Signed minutes are outdated when a vote opened or closed after they were signed. */
export function minutesOutdated(state) {
  if (!state.minutes) return false;
  const at = Date.parse(state.minutes.at);
  return state.polls.some((p) => [p.opened_at, p.closed_at].some((x) => x && Date.parse(x) > at));
}

// Offline reading: the service worker (scope /sessions/) keeps what registerOffline() asks for.
export const STATIC_ASSETS = [
  "/static/app.css", "/static/sessions/sessions.css", "/static/sessions/common.js",
  "/static/sessions/session.js", "/static/sessions/reader.js", "/static/sessions/ink.js",
  "/static/sessions/minutes-sign.js", "/static/signing/agent.js", "/static/format.js", "/static/fold.js",
  "/static/vendor/pdfjs/pdf.min.mjs", "/static/vendor/pdfjs/pdf.worker.min.mjs",
];

export async function registerOffline() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    await navigator.serviceWorker.register("/sessions/sw.js", { scope: "/sessions/" });
    return await navigator.serviceWorker.ready;
  } catch (_e) {
    return null;
  }
}

export async function cacheForOffline(urls) {
  const reg = await registerOffline();
  if (!reg || !reg.active) throw new Error(t("offline.unsupported"));
  return new Promise((resolve) => {
    navigator.serviceWorker.addEventListener("message", function done(ev) {
      if (ev.data?.type !== "cached") return;
      navigator.serviceWorker.removeEventListener("message", done);
      resolve(ev.data);
    });
    reg.active.postMessage({ type: "cache-session", urls });
  });
}
