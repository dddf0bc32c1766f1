// The wall screen: current item, speaker and timer, quorum, the vote result.
import { api, t, Realtime, resultText, quorumLine, timerText, pollTotal, KINDS } from "./common.js";

const wall = document.getElementById("wall");
const sid = Number(wall.dataset.sid);
const desk = ["secretariat", "chair"].includes(wall.dataset.role);
const base = `/api/v1/sessions/${sid}`;
let state = null;

function find(items, id) {
  for (const i of items) {
    if (i.id === id) return i;
    const f = find(i.children, id);
    if (f) return f;
  }
  return null;
}

function render() {
  const item = find(state.agenda, state.current_item_id);
  document.querySelector("[data-testid=wall-item]").textContent = item ? item.title : "—";
  document.getElementById("wall-quorum").textContent = quorumLine(state);
  const s = state.speaker;
  document.getElementById("wall-speaker").textContent = s ? `${s.full_name} — ${KINDS[s.kind]}` : "—";
  const open = state.polls.find((p) => p.status === "open");
  const closed = [...state.polls].reverse().find((p) => p.status === "closed");
  const box = document.getElementById("wall-vote");
  if (open) box.textContent = t("wall.voting", { title: open.title }) + (open.voted !== undefined ? t("wall.pressed", { voted: open.voted, total: pollTotal(open, state) }) : "");
  else if (closed) box.textContent = `${closed.title}: ${resultText(closed)} — ${closed.passed ? t("result.passed") : t("result.failed")}`;
  else box.textContent = "—";
  box.dataset.status = open ? "open" : closed ? "closed" : "none";
}

function tick() {
  const clock = document.getElementById("wall-timer");
  const { text, over, paused } = timerText(state?.speaker);
  const note = document.createElement("span");
  note.className = "timer-note";
  note.textContent = text && paused ? t("wall.paused") : "";
  clock.replaceChildren(text, note);
  clock.classList.toggle("over", over);
  clock.classList.toggle("paused", paused);
}

// The state with its ETag: an unchanged state costs a 304 and no body (docs/sessions.md).
const kept = { etag: null, text: null };
async function reload() {
  const headers = { Accept: "application/json" };
  if (kept.etag) headers["If-None-Match"] = kept.etag;
  const resp = await fetch(base, { headers, cache: "no-store" });
  if (resp.status === 304 && kept.text) { state = JSON.parse(kept.text); render(); return; }
  if (!resp.ok) { state = state || await api("GET", base); render(); return; }
  kept.etag = resp.headers.get("ETag");
  kept.text = await resp.text();
  state = JSON.parse(kept.text);
  render();
}

new Realtime([`session:${sid}`, ...(desk ? [`session:${sid}:desk`] : [])], (ev) => {
  const d = ev.data;
  if (ev.type === "agenda.current") { state.current_item_id = d.item_id; render(); return; }
  if (ev.type === "attendance.changed") { state.quorum = d.quorum; render(); return; }
  if (ev.type.startsWith("vote.")) {
    const i = state.polls.findIndex((p) => p.id === d.poll.id);
    if (i >= 0) state.polls[i] = { ...state.polls[i], ...d.poll }; else state.polls.push(d.poll);
    render();
    return;
  }
  reload();
}, { onResync: reload, onStatus: (up) => { if (up) reload(); } });
setInterval(tick, 500);
reload();
