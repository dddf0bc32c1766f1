// Video briefings: the room's shared state, its texts and the page's small helpers.
// The leaf of the room's modules (room.js -> rosterview.js -> controls.js -> stage.js -> signal.js
// -> roomstate.js): it imports none of them.

import { lang } from "../format.js";

const TEXTS = JSON.parse(document.getElementById("lt-texts")?.textContent || "{}");
export const LANG = lang();
/** The page's text for key (web/briefings/texts.py), {name} filled from vars. */
export function t(key, vars = {}) {
  return (TEXTS[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

export const AUDIO_SLOTS = 5; // the chair, the floor and three other speakers (selection.py)
export const VIDEO_SLOTS = 5; // the chair plus four most recently active endpoints (last-N)
export const REJOIN_DELAYS = [300, 700, 1000, 1500, 2000, 3000];
export const CAPS = { chair: 1_200_000, hall: 800_000, official: 500_000, weak: 250_000 };

// The client's phases: idle -> joining -> joined -> leaving -> idle, and joined <-> reconnecting.
// Every join, leave, rejoin and renegotiation bumps state.gen; whatever an older generation
// started (an awaited getUserMedia, an offer being gathered, its answer) is dropped when it lands.
export const PHASES = ["idle", "joining", "joined", "leaving", "reconnecting"];
export const IN_ROOM = new Set(["joining", "joined", "reconnecting"]);
export const DEVICE_KEY = "lienthong.briefings.device";

export const root = document.getElementById("room");
export const $ = (id) => document.getElementById(id);

export const state = {
  id: root.dataset.briefing,
  chair: root.dataset.chair === "true",
  endpoint: root.dataset.endpoint === "true",
  me: null,
  ws: null,
  pc: null,
  stream: null,
  screen: null,
  videoSender: null,
  audioSender: null,
  audioOnly: false,
  micOff: false,
  camOff: false,
  hand: false,
  phase: "idle",
  gen: 0, // bumped by every join, leave, rejoin and renegotiation
  pcGen: 0, // the generation of state.pc
  offered: 0, // offers sent on the current socket
  answered: 0, // answers received on it (the server answers in order)
  negotiations: 0,
  ended: false,
  attempt: 0,
  slots: new Map(), // mid -> {kind, source, el}
  roster: new Map(),
  seq: null, // the roster's sequence number; null while waiting for a full roster
  speaker: null,
  spotlight: null,
  weak: false, // our own measurement (quality.js) says the link is weak
  weakReason: null,
  weakSince: 0,
  serverWeak: false, // the server sends us only the chair's picture
  recording: false,
  monitor: null,
  statsBase: null,
  connectedAt: 0,
};

export function status(text) {
  $("status").textContent = text;
}

export function nameOf(id) {
  const p = state.roster.get(id);
  return p ? p.name : "";
}
