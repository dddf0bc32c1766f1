// The tablet page of a session: agenda and papers, check-in, speakers, votes; the desk for the
// secretariat.  State comes from GET /api/v1/sessions/{id}; events keep it live.
import { api, el, Realtime, CHOICES, THRESHOLDS, KINDS, resultText, quorumText, STATIC_ASSETS, registerOffline, cacheForOffline } from "./common.js";

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
  [state, papers] = await Promise.all([api("GET", base), api("GET", `${base}/papers`)]);
  render();
}

let timer = null;
function reloadSoon() {
  clearTimeout(timer);
  timer = setTimeout(() => guarded(reload), 80 + Math.random() * 300);
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
  document.getElementById("quorum").textContent = quorumText(state.quorum);
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
    el("span", { "data-testid": "my-attendance" }, mine ? `Bạn: ${{ hall: "có mặt tại hội trường", online: "tham dự trực tuyến", absent: "vắng mặt" }[mine.status]}` : "Bạn chưa điểm danh"),
    el("button", { type: "button", "data-testid": "checkin-hall", onclick: () => checkIn("hall") }, "Có mặt (hội trường)"),
    el("button", { type: "button", onclick: () => checkIn("online") }, "Trực tuyến"),
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
    box.append(el("h2", {}, `Biểu quyết: ${open.title}`),
      el("p", { class: "muted" }, `${open.secret ? "Bỏ phiếu kín" : "Biểu quyết công khai"} · ${THRESHOLDS[open.threshold]}`));
    const voted = state.me.voted.includes(open.id) || acked.has(open.id);
    if (voter && !voted) {
      box.append(el("div", { class: "row vote-buttons" }, ...Object.entries(CHOICES).map(([c, label]) =>
        el("button", { type: "button", class: `vote-${c}`, "data-testid": `vote-${c}`, onclick: () => castVote(open.id, c) }, label))));
    } else if (voted) {
      box.append(el("p", { class: "ack", "data-testid": "vote-ack" }, acked.get(open.id) || "Bạn đã biểu quyết."));
    }
    if (open.voted !== undefined) box.append(el("p", { "data-testid": "live-count" }, `Đã biểu quyết: ${open.voted} · ${resultText(open)}`));
  } else if (closed) {
    box.hidden = false;
    box.append(el("h2", {}, `Kết quả: ${closed.title}`),
      el("p", { "data-testid": "vote-result" }, `${resultText(closed)} — ${closed.passed ? "THÔNG QUA" : "KHÔNG THÔNG QUA"}`));
  } else box.hidden = true;
}

async function castVote(pollId, choice) {
  for (const b of document.querySelectorAll(".vote-buttons button")) b.disabled = true;
  try {
    const ack = await rt.request({ op: "vote", poll: pollId, choice });
    acked.set(pollId, ack.status === "recorded" ? `Đã ghi nhận: ${CHOICES[choice]}` : "Bạn đã biểu quyết trước đó.");
  } catch (e) {
    flash(e.message, true);
  }
  renderVote();
}

function renderSpeakers() {
  const now = document.getElementById("speaker-now");
  now.textContent = state.speaker ? `Đang phát biểu: ${state.speaker.full_name} (${KINDS[state.speaker.kind]})` : "";
  const queue = document.getElementById("queue");
  queue.replaceChildren(...state.queue.filter((s) => s.status === "waiting").map((s) => el("li", {},
    `${s.full_name} — ${KINDS[s.kind]} `,
    isSecretariat ? el("button", { type: "button", onclick: () => speaker(s.id, "start") }, "Bắt đầu") : null,
    s.user_id === state.me.user_id ? el("button", { type: "button", onclick: () => speaker(s.id, "withdraw") }, "Rút") : null)));
  if (state.speaker && isSecretariat) queue.append(el("li", {}, el("button", { type: "button", onclick: () => speaker(state.speaker.id, "stop") }, "Kết thúc phát biểu")));
  const actions = document.getElementById("speak-actions");
  actions.replaceChildren();
  if (voter && state.current_item_id) {
    for (const [k, label] of Object.entries(KINDS))
      actions.append(el("button", { type: "button", onclick: () => guarded(async () => {
        await api("POST", `${base}/items/${state.current_item_id}/speakers`, { kind: k }); await reload();
      }) }, `Đăng ký: ${label}`));
  }
}

function speaker(id, action) {
  guarded(async () => { await api("POST", `${base}/speakers/${id}`, { action }); await reload(); });
}

async function saveOffline() {
  const urls = [`/sessions/${sid}`, base, `${base}/papers`, ...STATIC_ASSETS];
  for (const p of papers.filter((x) => x.status === "active")) {
    const paper = `${base}/papers/${p.id}`;
    urls.push(`/sessions/${sid}/papers/${p.id}`, `${paper}/file?v=${p.version}`, `${paper}/annotations`);
  }
  const result = await cacheForOffline(urls);
  flash(`Đã lưu ${papers.length} tài liệu để đọc khi mất mạng (${result.count}/${result.total} mục).`);
}

function renderMinutes() {
  let box = document.getElementById("minutes");
  if (!state.minutes) { if (box) box.remove(); return; }
  if (!box) {
    box = el("p", { id: "minutes", class: "alert notice" });
    document.getElementById("now").append(box);
  }
  box.replaceChildren(el("a", { href: `${base}/minutes/signed` }, "Biên bản kỳ họp đã ký số"), ` — ${state.minutes.signer}`);
}

function renderAgenda() {
  const list = document.getElementById("agenda");
  const node = (item) => el("li", { class: item.id === state.current_item_id ? "current" : "" },
    el("span", {}, item.title),
    isSecretariat ? el("button", { type: "button", class: "small", onclick: () => guarded(async () => {
      await api("PUT", `${base}/current`, { item_id: item.id }); await reload();
    }) }, "Đang thảo luận") : null,
    el("ul", { class: "papers" }, ...papers.filter((p) => p.item_id === item.id).map((p) => el("li", {},
      el("a", { href: `/sessions/${sid}/papers/${p.id}`, "data-testid": `paper-${p.id}` }, p.title),
      ` (${p.pages} trang, bản ${p.version})`,
      p.confidential ? el("span", { class: "badge secret" }, "Mật") : null,
      p.signature?.status === "valid" ? el("span", { class: "badge", title: p.signature.summary }, "Đã ký số") : null,
      p.signature?.status === "invalid" ? el("span", { class: "badge secret", title: p.signature.summary }, "Chữ ký không hợp lệ") : null,
      p.status === "withdrawn" ? el("span", { class: "badge" }, "Đã rút") : null,
      p.is_new ? el("span", { class: "badge new" }, "Mới") : null))),
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

function buildDesk(desk) {
  desk.hidden = false;
  const items = flatItems(state.agenda);
  const itemSelect = (name) => el("select", { name }, ...items.map(([i, d]) => el("option", { value: i.id }, `${"— ".repeat(d)}${i.title}`)));
  const sittings = el("div", { class: "row" }, ...state.sittings.map((s) => el("button", {
    type: "button", disabled: s.id === state.session.current_sitting_id,
    onclick: () => guarded(async () => { await api("POST", `${base}/sittings/${s.id}/start`); await reload(); }),
  }, s.id === state.session.current_sitting_id ? `${s.title} (đang họp)` : `Bắt đầu ${s.title}`)));
  const sittingForm = el("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); guarded(async () => {
    await api("POST", `${base}/sittings`, { title: ev.target.title.value }); await reload(); }); } },
    el("input", { name: "title", placeholder: "Tên phiên họp", required: true }), el("button", { type: "submit" }, "Thêm phiên"));
  const itemForm = el("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); guarded(async () => {
    const parent = ev.target.parent_id.value;
    await api("POST", `${base}/agenda`, { title: ev.target.title.value, parent_id: parent ? Number(parent) : null }); await reload(); }); } },
    el("input", { name: "title", placeholder: "Nội dung", required: true }),
    el("select", { name: "parent_id" }, el("option", { value: "" }, "(mục chính)"), ...items.map(([i]) => el("option", { value: i.id }, i.title))),
    el("button", { type: "submit" }, "Thêm nội dung"));
  const pollForm = el("form", { class: "row", "data-testid": "poll-form", onsubmit: (ev) => { ev.preventDefault(); guarded(async () => {
    const f = ev.target;
    const body = { title: f.title.value, item_id: Number(f.item_id.value) || null, secret: f.secret.checked, threshold: f.threshold.value };
    if (f.deadline.value) body.deadline = new Date(f.deadline.value).toISOString();
    await api("POST", `${base}/polls`, body);
    f.reset();
    await reload(); }); } },
    el("input", { name: "title", placeholder: "Nội dung biểu quyết", required: true, "data-testid": "poll-title" }),
    itemSelect("item_id"),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "secret" }), "Bỏ phiếu kín"),
    el("select", { name: "threshold" }, ...Object.entries(THRESHOLDS).map(([k, v]) => el("option", { value: k }, v))),
    el("label", {}, "Hạn lấy ý kiến (để trống: biểu quyết tại phiên)", el("input", { type: "datetime-local", name: "deadline" })),
    el("button", { type: "submit", "data-testid": "poll-create" }, "Tạo biểu quyết"));
  const polls = el("ul", {}, ...state.polls.map((p) => el("li", {}, `${p.title} — ${({ draft: "chưa mở", open: "đang mở", closed: "đã kết thúc" })[p.status]} `,
    p.status === "draft" ? el("button", { type: "button", "data-testid": `poll-open-${p.id}`, onclick: () => guarded(async () => { await api("POST", `${base}/polls/${p.id}/open`); await reload(); }) }, "Mở biểu quyết") : null,
    p.status === "open" ? el("button", { type: "button", class: "danger", "data-testid": `poll-close-${p.id}`, onclick: () => guarded(async () => { await api("POST", `${base}/polls/${p.id}/close`); await reload(); }) }, "Kết thúc và công bố") : null,
    p.status === "open" ? el("button", { type: "button", onclick: () => guarded(async () => { const r = await api("POST", `${base}/polls/${p.id}/remind`); flash(`Đã nhắc ${r.reminded} đại biểu.`); }) }, "Nhắc người chưa trả lời") : null,
    p.kind === "opinion" && p.deadline ? el("span", { class: "muted" }, ` (lấy ý kiến, hạn ${new Date(p.deadline).toLocaleString("vi-VN")})`) : null,
    p.status === "closed" ? el("span", {}, `${resultText(p)} — ${p.passed ? "thông qua" : "không thông qua"}`) : null)));
  const upload = el("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); guarded(async () => {
    await api("POST", `${base}/papers`, new FormData(ev.target)); ev.target.reset(); await reload(); flash("Đã tải tài liệu lên."); }); } },
    el("input", { type: "file", name: "file", accept: "application/pdf", required: true }),
    el("input", { name: "title", placeholder: "Tên tài liệu" }), itemSelect("item_id"),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "confidential", value: "true" }), "Mật"),
    el("input", { name: "readers", placeholder: "Người được đọc (tài liệu mật)" }),
    el("button", { type: "submit" }, "Tải tài liệu lên"));
  const absent = state.invitations.filter((u) => u.role === "member" || u.role === "chair").map((u) => {
    const a = state.attendance[String(u.user_id)];
    return el("li", {}, `${u.full_name}: ${a ? a.status + (a.reason ? ` (${a.reason})` : "") : "chưa điểm danh"}`);
  });
  const conclusions = el("form", { class: "stack", onsubmit: (ev) => { ev.preventDefault(); guarded(async () => {
    await api("PUT", `${base}/conclusions`, { text: ev.target.text.value }); flash("Đã lưu kết luận."); }); } },
    el("textarea", { name: "text", rows: 4, placeholder: "Kết luận kỳ họp" }),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Lưu kết luận"),
      el("a", { class: "button", href: `${base}/minutes.pdf`, target: "_blank" }, "Xem biên bản (PDF) để ký số")));
  const signed = el("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); guarded(async () => {
    const file = ev.target.file.files[0];
    const resp = await fetch(`${base}/minutes/signed`, { method: "POST", body: file, headers: { "Content-Type": "application/pdf", "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content } });
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.detail_vi || data.detail);
    flash(`Đã lưu biên bản đã ký số (${data.signer}).`); await reload(); }); } },
    el("input", { type: "file", name: "file", accept: "application/pdf", required: true }),
    el("button", { type: "submit" }, "Tải lên biên bản đã ký số"));
  const inviteForm = el("form", { class: "row", "data-testid": "invite-form", onsubmit: (ev) => { ev.preventDefault(); guarded(async () => {
    await api("POST", `${base}/invitations`, { login: ev.target.login.value.trim(), role: ev.target.role.value }); ev.target.reset(); await reload(); }); } },
    el("input", { name: "login", placeholder: "Tên đăng nhập", required: true }),
    el("select", { name: "role" }, ...Object.entries({ member: "Đại biểu", chair: "Chủ toạ", guest: "Khách mời", secretariat: "Thư ký" }).map(([k, v]) => el("option", { value: k }, v))),
    el("button", { type: "submit" }, "Mời"));
  const markForm = el("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); guarded(async () => {
    const f = ev.target;
    await api("POST", `${base}/attendance`, { login: f.login.value, status: f.status.value, reason: f.reason.value }); f.reset(); await reload(); }); } },
    el("select", { name: "login" }, ...state.invitations.filter((u) => u.role !== "secretariat").map((u) => el("option", { value: u.login }, u.full_name))),
    el("select", { name: "status" }, el("option", { value: "absent" }, "Vắng mặt"), el("option", { value: "hall" }, "Có mặt (hội trường)"), el("option", { value: "online" }, "Trực tuyến")),
    el("input", { name: "reason", placeholder: "Lý do vắng" }),
    el("button", { type: "submit" }, "Ghi điểm danh"));
  desk.replaceChildren(el("h2", {}, "Điều hành (thư ký)"), el("h3", {}, "Người dự họp"), inviteForm,
    el("ul", {}, ...state.invitations.map((u) => el("li", {}, `${u.full_name} (${u.login}) — ${({ member: "đại biểu", chair: "chủ toạ", guest: "khách mời", secretariat: "thư ký" })[u.role]}`))),
    el("h3", {}, "Phiên họp"), sittings, sittingForm,
    el("h3", {}, "Chương trình"), itemForm, el("h3", {}, "Biểu quyết"), pollForm, polls,
    el("h3", {}, "Tài liệu"), upload, el("h3", {}, "Điểm danh"), markForm, el("ul", {}, ...absent),
    el("h3", {}, "Kết luận và biên bản"), conclusions, signed);
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
      flash(`Nhắc: xin cho ý kiến về "${d.poll.title}".`);
      break;
    default:
      reloadSoon();
  }
}

const channels = [`session:${sid}`, `user:${root.dataset.user}`, ...(isDesk ? [`session:${sid}:desk`] : [])];
const rt = new Realtime(channels, onEvent, {
  onResync: reloadSoon,
  onStatus: (up) => {
    const c = document.getElementById("conn");
    c.textContent = up ? "Trực tuyến" : "Mất kết nối";
    c.dataset.up = up ? "1" : "0";
    if (up && state) reloadSoon();
  },
});
document.getElementById("session-search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  guarded(async () => {
    const q = ev.target.q.value.trim();
    if (q.length < 2) return;
    const hits = await api("GET", `${base}/search?q=${encodeURIComponent(q)}`);
    document.getElementById("session-hits").replaceChildren(...(hits.length ? hits.map((h) => el("li", {},
      el("a", { href: `/sessions/${sid}/papers/${h.paper_id}?page=${h.page}` }, `${h.title}, trang ${h.page}`), ` … ${h.snippet} …`))
      : [el("li", {}, "Không tìm thấy.")]));
  });
});

registerOffline();
const offline = el("button", { type: "button", "data-testid": "save-offline", onclick: () => guarded(saveOffline) }, "Lưu tài liệu để đọc ngoại tuyến");
document.getElementById("now").append(offline);
guarded(reload);
