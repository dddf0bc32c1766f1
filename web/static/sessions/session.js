// The tablet page of a session: agenda and papers, check-in, speakers, votes; the desk for the
// secretariat.  State comes from GET /api/v1/sessions/{id}; events keep it live.
import { api, el, t, LOCALE, detailOf, Realtime, CHOICES, THRESHOLDS, KINDS, resultText, quorumLine, timerText, pollTotal, minutesOutdated, STATIC_ASSETS, registerOffline, cacheForOffline, loadMembers } from "./common.js";
import { formatDateTime } from "../format.js";
import { signMinutes } from "./minutes-sign.js";

const root = document.getElementById("session");
const sid = Number(root.dataset.sid);
const role = root.dataset.role;
const base = `/api/v1/sessions/${sid}`;
const isDesk = role === "secretariat" || role === "chair";
const isSecretariat = role === "secretariat";
const voter = role === "member" || role === "chair";
let state = null;
let papers = [];
const acked = new Map(); // poll id -> status text shown on the tablet

function flash(text, error = false) {
  const f = document.getElementById("flash");
  f.textContent = text;
  f.className = error ? "alert error" : "alert notice";
  f.hidden = false;
}

async function guarded(fn) {
  try { await fn(); } catch (e) { flash(e.message, true); }
}

async function reload() {
  [state, papers] = await Promise.all([loadState(), api("GET", `${base}/papers`)]);
  if (isDesk) await loadDeskMembers();
  render();
}

async function loadDeskMembers() {
  const members = await loadMembers(base);
  state.invitations = members;
  state.attendance = Object.fromEntries(members.filter((u) => u.attendance).map((u) => [String(u.user_id), u.attendance]));
}

// Back after a dropped connection (a hall's Wi-Fi blink): the state first; if it is unchanged
// (304) nothing of the session changed while away, and the papers are fetched again only when
// the state's papers_version moved (issue 15: a reconnect downloads nothing when nothing
// changed).  The desk's member list is fetched again either way.
async function resume() {
  const before = state && state.papers_version;
  const loaded = await loadState();
  if (!keptState.unchanged && (!before || loaded.papers_version !== before)) papers = await api("GET", `${base}/papers`);
  state = loaded;
  if (isDesk) await loadDeskMembers();
  render();
  root.dataset.resumed = String(Number(root.dataset.resumed || 0) + 1); // how many resumes are done
}

// The page state with its ETag: an unchanged state costs a 304 and no body; X-Session-Seq tells
// the server the last event this tablet saw (docs/sessions.md, "Page state").
const keptState = { etag: null, text: null, unchanged: false };
async function loadState() {
  const headers = { Accept: "application/json" };
  if (keptState.etag) headers["If-None-Match"] = keptState.etag;
  const seq = typeof rt === "undefined" ? null : rt.last[`session:${sid}`];
  if (seq) headers["X-Session-Seq"] = String(seq);
  const resp = await fetch(base, { headers, cache: "no-store" });
  keptState.unchanged = resp.status === 304 && Boolean(keptState.text);
  if (keptState.unchanged) return JSON.parse(keptState.text);
  const text = await resp.text();
  if (!resp.ok) {
    const data = JSON.parse(text || "{}");
    throw Object.assign(new Error(detailOf(data) || resp.statusText), { status: resp.status }, data);
  }
  keptState.etag = resp.headers.get("ETag");
  keptState.text = text;
  return JSON.parse(text);
}


let timer = null;
function reloadSoon(how = reload) {
  clearTimeout(timer);
  timer = setTimeout(() => guarded(how), 80 + Math.random() * 300);
}

function findItem(items, id) {
  for (const i of items) {
    if (i.id === id) return i;
    const found = findItem(i.children, id);
    if (found) return found;
  }
  return null;
}

function render() {
  const current = findItem(state.agenda, state.current_item_id);
  document.getElementById("current-item").textContent = current ? current.title : "—";
  document.getElementById("quorum").textContent = quorumLine(state);
  renderCheckin();
  renderVote();
  renderSpeakers();
  renderAgenda();
  renderMinutes();
  if (isSecretariat) renderDesk();
}

function renderCheckin() {
  const box = document.getElementById("checkin");
  box.replaceChildren();
  if (role === "secretariat" || !state.session.current_sitting_id) return;
  const mine = state.me.attendance;
  box.append(
    el("span", { "data-testid": "my-attendance", "data-status": mine ? mine.status : "" }, mine ? t(`me.${mine.status}`) : t("me.none")),
    el("button", { type: "button", "data-testid": "checkin-hall", onclick: () => checkIn("hall") }, t("checkin.hall")),
    el("button", { type: "button", onclick: () => checkIn("online") }, t("checkin.online")),
  );
}

function checkIn(status) {
  guarded(async () => { await api("POST", `${base}/attendance`, { status }); await reload(); });
}

function openPoll() {
  return state.polls.find((p) => p.status === "open");
}

function renderVote() {
  const box = document.getElementById("vote");
  box.replaceChildren();
  const open = openPoll();
  const closed = [...state.polls].reverse().find((p) => p.status === "closed");
  if (open) {
    box.hidden = false;
    box.append(el("h2", {}, t("vote.title", { title: open.title })),
      el("p", { class: "muted" }, `${open.secret ? t("vote.secret") : t("vote.named")} · ${THRESHOLDS[open.threshold]}`));
    const voted = state.me.voted.includes(open.id) || acked.has(open.id);
    if (voter && !voted) {
      box.append(el("div", { class: "row vote-buttons" }, ...Object.entries(CHOICES).map(([c, label]) =>
        el("button", { type: "button", class: `vote-${c}`, "data-testid": `vote-${c}`, onclick: () => castVote(open.id, c) }, label))));
    } else if (voted) {
      box.append(el("p", { class: "ack", "data-testid": "vote-ack" }, acked.get(open.id) || t("vote.done")));
    }
    // a secret vote shows even the desk only how many voted until it closes
    if (open.voted !== undefined) {
      const counted = { ...open, members_total: pollTotal(open, state) };
      const live = t("vote.live_of", { voted: open.voted, total: counted.members_total });
      box.append(el("p", { "data-testid": "live-count" }, open.yes === undefined ? live : `${live} · ${resultText(counted)}`));
    }
  } else if (closed) {
    box.hidden = false;
    box.append(el("h2", {}, t("vote.result", { title: closed.title })),
      el("p", { "data-testid": "vote-result" }, `${resultText(closed)} — ${closed.passed ? t("result.passed") : t("result.failed")}`));
  } else box.hidden = true;
}

async function castVote(pollId, choice) {
  for (const b of document.querySelectorAll(".vote-buttons button")) b.disabled = true;
  try {
    const ack = await rt.request({ op: "vote", poll: pollId, choice });
    acked.set(pollId, ack.status === "recorded" ? t("vote.recorded", { choice: CHOICES[choice] }) : t("vote.already"));
  } catch (e) {
    flash(e.message, true);
  }
  renderVote();
}

function renderSpeakers() {
  const now = document.getElementById("speaker-now");
  now.textContent = state.speaker ? t("speaker.now", { name: state.speaker.full_name, kind: KINDS[state.speaker.kind] }) : "";
  const queue = document.getElementById("queue");
  queue.replaceChildren(...state.queue.filter((s) => s.status === "waiting").map((s) => el("li", {},
    `${s.full_name} — ${KINDS[s.kind]} `,
    isSecretariat ? el("button", { type: "button", "data-testid": `speaker-start-${s.id}`, onclick: () => speaker(s.id, "start", { limit_s: speakingLimit() }) }, t("speaker.start")) : null,
    s.user_id === state.me.user_id ? el("button", { type: "button", onclick: () => speaker(s.id, "withdraw") }, t("speaker.withdraw")) : null)));
  if (isSecretariat) renderTimerControl();
  const actions = document.getElementById("speak-actions");
  actions.replaceChildren();
  if (voter && state.current_item_id) {
    for (const [k, label] of Object.entries(KINDS))
      actions.append(el("button", { type: "button", onclick: () => guarded(async () => {
        await api("POST", `${base}/items/${state.current_item_id}/speakers`, { kind: k }); await reload();
      }) }, t("speaker.register", { kind: label })));
  }
}

function speaker(id, action, extra = {}) {
  guarded(async () => { await api("POST", `${base}/speakers/${id}`, { action, ...extra }); await reload(); });
}

// The desk's speaking timer (the wall shows the same clock): how long a speech may take, and
// pause / resume / reset for the one speaking.  The server keeps the clock (paused = time left).
let limitMinutes = 5;
function speakingLimit() {
  return limitMinutes * 60;
}

function renderTimerControl() {
  const box = document.getElementById("timer-control");
  box.hidden = false;
  const s = state.speaker;
  const limit = el("label", { class: "inline-label" }, t("timer.limit"),
    el("select", { "data-testid": "timer-limit", onchange: (ev) => { limitMinutes = Number(ev.target.value); } },
      ...[1, 2, 3, 5, 7, 10, 15].map((n) => el("option", { value: n, selected: n === limitMinutes }, t("timer.minutes", { n })))));
  const clock = el("output", { class: "timer desk-timer", id: "desk-timer", "data-testid": "desk-timer", "aria-live": "off" });
  const buttons = s ? [
    s.paused
      ? el("button", { type: "button", class: "primary", "data-testid": "timer-resume", onclick: () => speaker(s.id, "resume") }, `▶ ${t("timer.resume")}`)
      : el("button", { type: "button", "data-testid": "timer-pause", onclick: () => speaker(s.id, "pause") }, `⏸ ${t("timer.pause")}`),
    el("button", { type: "button", "data-testid": "timer-reset", onclick: () => speaker(s.id, "reset", { limit_s: speakingLimit() }) }, `↺ ${t("timer.reset")}`),
    el("button", { type: "button", class: "danger", "data-testid": "speaker-stop", onclick: () => speaker(s.id, "stop") }, t("speaker.stop")),
  ] : [el("span", { class: "muted" }, t("timer.none"))];
  box.replaceChildren(el("h3", {}, t("timer.title")), el("div", { class: "row timer-row" }, clock, ...buttons), limit);
  tickDesk();
}

function tickDesk() {
  const clock = document.getElementById("desk-timer");
  if (!clock || !state) return;
  const { text, over, paused } = timerText(state.speaker);
  clock.textContent = text ? (paused ? `${text} · ${t("timer.paused")}` : text) : "—";
  clock.classList.toggle("over", over);
  clock.dataset.paused = paused ? "1" : "0";
}

async function saveOffline() {
  const urls = [`/sessions/${sid}`, base, `${base}/papers`, ...STATIC_ASSETS];
  for (const p of papers.filter((x) => x.status === "active")) {
    const paper = `${base}/papers/${p.id}`;
    urls.push(`/sessions/${sid}/papers/${p.id}`, `${paper}/file?v=${p.version}`, `${paper}/annotations`);
  }
  const result = await cacheForOffline(urls);
  flash(t("offline.saved", { papers: papers.length, count: result.count, total: result.total }));
}

function renderMinutes() {
  let box = document.getElementById("minutes");
  if (!state.minutes) { if (box) box.remove(); return; }
  if (!box) {
    box = el("p", { id: "minutes", class: "alert notice" });
    document.getElementById("now").append(box);
  }
  const outdated = minutesOutdated(state);
  box.className = outdated ? "alert error" : "alert notice";
  box.replaceChildren(el("a", { href: `${base}/minutes/signed`, "data-testid": "minutes-link" }, t("minutes.signed")), ` — ${state.minutes.signer}`,
    outdated ? el("span", { class: "badge secret outdated", "data-testid": "minutes-outdated" }, t("minutes.outdated")) : null);
}

function renderAgenda() {
  const list = document.getElementById("agenda");
  const node = (item) => el("li", { class: item.id === state.current_item_id ? "current" : "", "data-item": item.id },
    el("span", {}, item.title),
    item.id === state.current_item_id ? el("span", { class: "badge now", "data-testid": "current-badge" }, t("agenda.current_badge"))
      : isSecretariat ? el("button", { type: "button", class: "small", "data-testid": `make-current-${item.id}`, onclick: () => guarded(async () => {
        await api("PUT", `${base}/current`, { item_id: item.id }); await reload();
      }) }, t("agenda.make_current")) : null,
    el("ul", { class: "papers" }, ...papers.filter((p) => p.item_id === item.id).map((p) => el("li", {},
      el("a", { href: `/sessions/${sid}/papers/${p.id}`, "data-testid": `paper-${p.id}` }, p.title),
      ` ${t("paper.pages", { pages: p.pages, version: p.version })}`,
      p.confidential ? el("span", { class: "badge secret" }, t("paper.secret")) : null,
      p.signature?.status === "valid" ? el("span", { class: "badge", title: p.signature.summary }, t("paper.signed")) : null,
      p.signature?.status === "invalid" ? el("span", { class: "badge secret", title: p.signature.summary }, t("paper.bad_signature")) : null,
      p.status === "withdrawn" ? el("span", { class: "badge" }, t("paper.withdrawn")) : null,
      p.is_new ? el("span", { class: "badge new" }, t("paper.new")) : null))),
    item.children.length ? el("ol", {}, ...item.children.map(node)) : null);
  list.replaceChildren(...state.agenda.map(node));
}

function flatItems(items, depth = 0) {
  return items.flatMap((i) => [[i, depth], ...flatItems(i.children, depth + 1)]);
}

// The desk is redrawn on every event; what the secretariat is typing must survive that.
function deskFields(desk) {
  return [...desk.querySelectorAll("form")].flatMap((form, i) =>
    [...form.querySelectorAll("input:not([type=file]), select, textarea")].map((f) => [`${i}|${f.name}`, f]));
}

// The signing row is built once and kept across re-renders of the desk: a realtime event that
// re-renders the desk while the secretary picks a certificate or types the PIN must not detach
// the picker and leave the signature waiting forever.
let signBox = null;
function buildSignBox() {
  const sign = el("div", { class: "row sign-row", "data-testid": "sign-minutes" });
  // A token with several certificates: the secretary picks theirs, then confirms.
  const choose = (certs) => new Promise((resolve) => {
    const select = el("select", { "data-testid": "sign-cert", class: "cert-select", "aria-label": t("desk.cert"), title: certs[0] ? certs[0].subject : "" },
      ...certs.map((c, i) => el("option", { value: i, title: c.subject }, `${c.subject} — ${c.token_label}`)));
    select.addEventListener("change", () => { select.title = certs[Number(select.value)]?.subject || ""; });
    sign.append(select, el("button", { type: "button", "data-testid": "sign-cert-ok", onclick: (ev) => {
      ev.target.remove();
      select.disabled = true;
      resolve(certs[Number(select.value)]);
    } }, t("desk.sign_with")));
  });
  sign.append(
    el("button", { type: "button", class: "primary", "data-testid": "sign-minutes-button", onclick: (ev) => guarded(async () => {
      ev.target.disabled = true;
      try {
        flash(t("desk.signing"));
        const data = await signMinutes(base, document.querySelector("meta[name=csrf-token]").content, choose);
        flash(t("desk.minutes_saved", { signer: data.signer }));
        await reload();
      } finally {
        ev.target.disabled = false;
        sign.querySelector("[data-testid=sign-cert]")?.remove();
      }
    }) }, t("desk.sign")));
  return sign;
}

function renderDesk() {
  const desk = document.getElementById("desk");
  const before = new Map(deskFields(desk).map(([k, f]) => [k, f.type === "checkbox" ? f.checked : f.value]));
  const focused = deskFields(desk).find(([, f]) => f === document.activeElement)?.[0];
  buildDesk(desk);
  for (const [k, f] of deskFields(desk)) {
    if (!before.has(k)) continue;
    if (f.type === "checkbox") f.checked = before.get(k); else if (before.get(k) !== "") f.value = before.get(k);
    if (k === focused) f.focus();
  }
}

// The desk as a tablet app: one labelled section per job (agenda, attendance, votes, papers,
// minutes); every field has a real <label>.  Speakers and the timer live in the speakers card.
function section(id, title, ...children) {
  return el("section", { class: "card desk-section", id, "aria-labelledby": `${id}-h` }, el("h2", { id: `${id}-h` }, title), ...children);
}

function field(label, control, cls = "") {
  return el("label", { class: cls || null }, label, control);
}

function submitter(fn) {
  return (ev) => { ev.preventDefault(); guarded(async () => { await fn(ev.target); }); };
}

function buildDesk(desk) {
  desk.hidden = false;
  const items = flatItems(state.agenda);
  const itemSelect = (name) => el("select", { name }, ...items.map(([i, d]) => el("option", { value: i.id }, `${"— ".repeat(d)}${i.title}`)));
  const sign = signBox ??= buildSignBox();
  desk.replaceChildren(
    section("desk-agenda", t("desk.sec_agenda"), ...deskAgenda(items)),
    section("desk-attendance", t("desk.sec_attendance"), ...deskAttendance()),
    section("desk-votes", t("desk.sec_votes"), ...deskVotes(itemSelect)),
    section("desk-papers", t("desk.papers"), deskUpload(itemSelect)),
    section("desk-minutes", t("desk.sec_minutes"), ...deskMinutes(sign)));
}

function deskAgenda(items) {
  const sittings = el("div", { class: "row" }, ...state.sittings.map((s) => el("button", {
    type: "button", disabled: s.id === state.session.current_sitting_id,
    onclick: () => guarded(async () => { await api("POST", `${base}/sittings/${s.id}/start`); await reload(); }),
  }, t(s.id === state.session.current_sitting_id ? "desk.sitting_now" : "desk.sitting_start", { title: s.title }))));
  const sittingForm = el("form", { class: "row", onsubmit: submitter(async (f) => {
    await api("POST", `${base}/sittings`, { title: f.title.value }); await reload(); }) },
    field(t("desk.sitting_name"), el("input", { name: "title", required: true })), el("button", { type: "submit" }, t("desk.sitting_add")));
  const itemForm = el("form", { class: "row", onsubmit: submitter(async (f) => {
    const parent = f.parent_id.value;
    await api("POST", `${base}/agenda`, { title: f.title.value, parent_id: parent ? Number(parent) : null }); await reload(); }) },
    field(t("desk.item"), el("input", { name: "title", required: true })),
    field(t("desk.item_parent"), el("select", { name: "parent_id" }, el("option", { value: "" }, t("desk.item_top")), ...items.map(([i]) => el("option", { value: i.id }, i.title)))),
    el("button", { type: "submit" }, t("desk.item_add")));
  return [el("h3", {}, t("desk.sittings")), sittings, sittingForm, el("h3", {}, t("desk.agenda")), itemForm];
}

function deskAttendance() {
  const inviteLink = el("p", {}, el("a", { class: "button", href: `/sessions/${sid}/invitations`, "data-testid": "invite-page" }, t("desk.invite_page")));
  const markForm = el("form", { class: "row", onsubmit: submitter(async (f) => {
    await api("POST", `${base}/attendance`, { login: f.login.value, status: f.status.value, reason: f.reason.value }); f.reset(); await reload(); }) },
    field(t("desk.who"), el("select", { name: "login" }, ...state.invitations.filter((u) => u.role !== "secretariat").map((u) => el("option", { value: u.login }, u.full_name)))),
    field(t("desk.status"), el("select", { name: "status" }, ...["absent", "hall", "online"].map((k) => el("option", { value: k }, t(`checkin.${k}`))))),
    field(t("desk.reason"), el("input", { name: "reason" })),
    el("button", { type: "submit" }, t("desk.mark")));
  const marks = state.invitations.filter((u) => u.role === "member" || u.role === "chair").map((u) => {
    const a = state.attendance[String(u.user_id)];
    return el("li", {}, `${u.full_name}: ${a ? t(`checkin.${a.status}`) + (a.reason ? ` (${a.reason})` : "") : t("checkin.not_yet")}`);
  });
  const people = el("details", {}, el("summary", {}, `${t("desk.people")} (${state.invitations.length})`),
    el("ul", {}, ...state.invitations.map((u) => el("li", {}, `${u.full_name} (${u.login}) — ${t(`role.${u.role}`)}`))));
  return [el("p", { class: "muted", "data-testid": "desk-quorum" }, quorumLine(state)), markForm, el("ul", { class: "marks" }, ...marks), people, inviteLink];
}

function deskVotes(itemSelect) {
  const pollForm = el("form", { class: "row", "data-testid": "poll-form", onsubmit: submitter(async (f) => {
    const body = { title: f.title.value, item_id: Number(f.item_id.value) || null, secret: f.secret.checked, threshold: f.threshold.value };
    if (f.deadline.value) body.deadline = new Date(f.deadline.value).toISOString();
    await api("POST", `${base}/polls`, body);
    f.reset();
    await reload(); }) },
    field(t("desk.poll_title"), el("input", { name: "title", required: true, "data-testid": "poll-title" }), "grow"),
    field(t("desk.poll_item"), itemSelect("item_id")),
    field(t("desk.threshold"), el("select", { name: "threshold" }, ...Object.entries(THRESHOLDS).map(([k, v]) => el("option", { value: k }, v)))),
    field(t("desk.deadline"), el("input", { type: "datetime-local", name: "deadline" })),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "secret" }), t("vote.secret")),
    el("button", { type: "submit", "data-testid": "poll-create" }, t("desk.poll_create")));
  const polls = el("ul", { class: "poll-list" }, ...state.polls.map((p) => el("li", {}, `${p.title} — ${t(`poll.${p.status}`)} `,
    p.status === "draft" ? el("button", { type: "button", "data-testid": `poll-open-${p.id}`, onclick: () => guarded(async () => { await api("POST", `${base}/polls/${p.id}/open`); await reload(); }) }, t("poll.do_open")) : null,
    p.status === "open" ? el("button", { type: "button", class: "danger", "data-testid": `poll-close-${p.id}`, onclick: () => guarded(async () => { await api("POST", `${base}/polls/${p.id}/close`); await reload(); }) }, t("poll.do_close")) : null,
    p.status === "open" ? el("button", { type: "button", onclick: () => guarded(async () => { const r = await api("POST", `${base}/polls/${p.id}/remind`); flash(t("poll.reminded", { n: r.reminded })); }) }, t("poll.remind")) : null,
    p.kind === "opinion" && p.deadline ? el("span", { class: "muted" }, ` ${t("poll.opinion", { deadline: formatDateTime(p.deadline) })}`) : null,
    p.status === "closed" ? el("span", {}, `${resultText(p)} — ${p.passed ? t("poll.passed") : t("poll.failed")}`) : null)));
  return [pollForm, polls];
}

function deskUpload(itemSelect) {
  return el("form", { class: "row", onsubmit: submitter(async (f) => {
    await api("POST", `${base}/papers`, new FormData(f)); f.reset(); await reload(); flash(t("desk.uploaded")); }) },
    field(t("desk.file"), el("input", { type: "file", name: "file", accept: "application/pdf", required: true })),
    field(t("desk.paper_title"), el("input", { name: "title" })), field(t("desk.poll_item"), itemSelect("item_id")),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "confidential", value: "true" }), t("paper.secret")),
    field(t("desk.readers"), el("input", { name: "readers" })),
    el("button", { type: "submit" }, t("desk.upload")));
}

function deskMinutes(sign) {
  // the saved conclusions fill the box (a reload must not leave it empty: saving would wipe them)
  const conclusions = el("form", { class: "stack", "data-testid": "conclusions-form", onsubmit: submitter(async (f) => {
    await api("PUT", `${base}/conclusions`, { text: f.text.value }); state.conclusions = f.text.value; flash(t("desk.conclusions_saved")); }) },
    el("label", { for: "conclusions-text" }, t("desk.conclusions")),
    el("textarea", { name: "text", id: "conclusions-text", rows: 4, "data-testid": "conclusions" }, state.conclusions || ""),
    el("div", { class: "row" }, el("button", { type: "submit", "data-testid": "conclusions-save" }, t("desk.conclusions_save")),
      el("a", { class: "button", href: `${base}/minutes.pdf`, target: "_blank" }, t("desk.minutes_pdf"))));
  const signed = el("form", { class: "row", onsubmit: submitter(async (f) => {
    const file = f.file.files[0];
    const resp = await fetch(`${base}/minutes/signed`, { method: "POST", body: file, headers: { "Content-Type": "application/pdf", "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content } });
    const data = await resp.json();
    if (!resp.ok) throw new Error(detailOf(data));
    flash(t("desk.minutes_saved", { signer: data.signer })); await reload(); }) },
    field(t("desk.signed_file"), el("input", { type: "file", name: "file", accept: "application/pdf", required: true })),
    el("button", { type: "submit" }, t("desk.minutes_upload")));
  const status = state.minutes ? el("p", { class: minutesOutdated(state) ? "alert error" : "alert notice" },
    el("a", { href: `${base}/minutes/signed` }, t("minutes.signed")), ` — ${state.minutes.signer}`,
    minutesOutdated(state) ? el("span", { class: "badge secret outdated" }, t("minutes.outdated")) : null) : null;
  return [conclusions, status, sign, signed];
}

function onEvent(ev) {
  const d = ev.data;
  switch (ev.type) {
    case "agenda.current":
      state.current_item_id = d.item_id;
      state.queue = d.queue;
      render();
      break;
    case "attendance.changed":
      state.quorum = d.quorum;
      if (d.user_id === state.me.user_id || isDesk) reloadSoon(); else render();
      break;
    case "vote.opened":
    case "vote.closed":
    case "vote.tally": {
      const i = state.polls.findIndex((p) => p.id === d.poll.id);
      // an open vote's counts only grow; two server processes may publish theirs out of order
      const was = i >= 0 ? state.polls[i] : null;
      if (ev.type === "vote.tally" && was && was.status === "open" && (was.voted || 0) > (d.poll.voted || 0)) break;
      if (i >= 0) state.polls[i] = { ...state.polls[i], ...d.poll }; else state.polls.push(d.poll);
      render();
      break;
    }
    case "speakers.changed":
      if (d.item_id === state.current_item_id) state.queue = d.queue;
      if ("speaker" in d) state.speaker = d.speaker;
      render();
      break;
    case "annotation.saved":
    case "annotation.deleted":
      break;
    case "vote.reminder":
      flash(t("vote.reminder", { title: d.poll.title }));
      break;
    default:
      reloadSoon();
  }
}

const channels = [`session:${sid}`, `user:${root.dataset.user}`, ...(isDesk ? [`session:${sid}:desk`] : [])];
const rt = new Realtime(channels, onEvent, {
  onResync: () => reloadSoon(),
  onStatus: (up) => {
    const c = document.getElementById("conn");
    c.textContent = up ? t("conn.up") : t("conn.down");
    c.dataset.up = up ? "1" : "0";
    if (up && state) reloadSoon(resume);
  },
});
document.getElementById("session-search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  guarded(async () => {
    const q = ev.target.q.value.trim();
    if (q.length < 2) return;
    const hits = await api("GET", `${base}/search?q=${encodeURIComponent(q)}`);
    document.getElementById("session-hits").replaceChildren(...(hits.length ? hits.map((h) => el("li", {},
      el("a", { href: `/sessions/${sid}/papers/${h.paper_id}?page=${h.page}` }, t("search.hit", { title: h.title, page: h.page })), ` … ${h.snippet} …`))
      : [el("li", {}, t("search.none"))]));
  });
});

registerOffline();
const offline = el("button", { type: "button", "data-testid": "save-offline", onclick: () => guarded(saveOffline) }, t("offline.save"));
document.getElementById("now").append(offline);
guarded(reload);
setInterval(tickDesk, 500);
