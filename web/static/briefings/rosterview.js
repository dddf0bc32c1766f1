// Video briefings: the roster (full, then deltas), its list with the chair's buttons, and the roll.

import { formatNumber } from "../format.js";
import { showHand } from "./controls.js";
import { $, state, t } from "./roomstate.js";
import { send } from "./signal.js";
import { cannotShow, renderStage } from "./stage.js";

// ---------------------------------------------------------------- roster: full, then deltas
// The server sends the whole roster on join (and on resync), then one numbered delta per change
// of one participant. A gap in the numbers means deltas were lost: ask for the whole roster once.

export function applyRoster(f) {
  state.roster = new Map(f.participants.map((p) => [p.id, p]));
  state.seq = f.seq;
  state.spotlight = f.spotlight;
  state.speaker = f.speaker;
  rosterChanged();
}

export function applyDelta(f) {
  if (state.seq === null || f.seq <= state.seq) return; // a resync is on its way, or seen
  if (f.seq !== state.seq + 1) {
    state.seq = null;
    send({ type: "resync" });
    return;
  }
  state.seq = f.seq;
  if (f.op === "leave") state.roster.delete(f.id);
  else state.roster.set(f.participant.id, f.participant);
  rosterChanged();
}

/** Redraw the roster and the stage (a roster change, or slots that now show someone else). */
export function rosterChanged() {
  const mine = state.roster.get(state.me);
  if (mine && mine.hand !== state.hand) showHand(mine.hand); // kept, or lowered by the chair
  renderRoster();
  renderStage();
}

// ---------------------------------------------------------------- roster and chair

function button(text, testid, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.dataset.testid = testid;
  b.addEventListener("click", onClick);
  return b;
}

function renderRoster() {
  const list = $("roster");
  list.replaceChildren();
  for (const p of state.roster.values()) {
    const li = document.createElement("li");
    li.dataset.participant = p.id;
    li.dataset.hand = String(p.hand);
    const flags = [
      p.chair ? t("room.flag.chair") : "",
      p.connected ? "" : t("room.flag.offline"),
      p.audio_muted ? t("room.flag.muted") : "",
      p.audio_only ? t("room.flag.audio_only") : "",
      p.hand ? t("room.flag.hand") : "",
      cannotShow(p) ? t("room.flag.codec", { codec: p.video_codec }) : "",
    ].filter(Boolean);
    li.dataset.codecMismatch = String(cannotShow(p));
    li.textContent = `${p.name}${flags.length ? ` (${flags.join(", ")})` : ""}`;
    if (state.chair && p.id !== state.me) {
      li.append(
        " ",
        button(t("room.spotlight"), `spotlight-${p.id}`, () =>
          send({ type: "chair", action: "spotlight", target: p.id }),
        ),
        " ",
        button(t("room.mic_off"), `mute-${p.id}`, () =>
          send({ type: "chair", action: "mute", target: p.id }),
        ),
      );
    }
    list.append(li);
  }
}

export function renderRoll(entries) {
  const table = $("roll");
  table.replaceChildren();
  const head = table.insertRow();
  for (const h of [t("room.roll.endpoint"), t("room.roll.connected"), "RTT (ms)", t("room.roll.loss")]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.append(th);
  }
  for (const e of entries) {
    const row = table.insertRow();
    row.insertCell().textContent = e.name;
    row.insertCell().textContent = e.connected ? t("room.yes") : t("room.no");
    row.insertCell().textContent = e.rtt_ms == null ? "—" : String(Math.round(e.rtt_ms));
    row.insertCell().textContent = e.loss == null ? "—" : formatNumber(e.loss * 100, 1);
  }
}
