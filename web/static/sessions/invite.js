// The secretariat's invitation screen: find people by name, login or agency, tick them, invite
// them with one role; change the role of someone invited.  Everything goes through the API.
import { api, el, t, loadMembers } from "./common.js";

const root = document.getElementById("invite");
const base = `/api/v1/sessions/${root.dataset.sid}`;
const ROLES = ["member", "chair", "guest", "secretariat"];

function flash(text, error = false) {
  const f = document.getElementById("flash");
  f.textContent = text;
  f.className = error ? "alert error" : "alert notice";
  f.hidden = false;
}

async function guarded(fn) {
  try { await fn(); } catch (e) { flash(e.message, true); }
}

async function find() {
  const q = document.querySelector("#find [name=q]").value.trim();
  const people = await api("GET", `${base}/candidates?q=${encodeURIComponent(q)}`);
  const list = document.getElementById("candidates");
  list.replaceChildren(...(people.length ? people.map((u) => el("li", {},
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "login", value: u.login, "data-testid": `pick-${u.login}` }),
      el("span", {}, `${u.full_name} (${u.login})`), el("span", { class: "muted" }, ` — ${u.agency}`))))
    : [el("li", { class: "muted" }, t("invite.none"))]));
}


async function loadInvited() {
  const invitations = await loadMembers(base);
  document.getElementById("invited-count").textContent = String(invitations.length);
  document.getElementById("invited").replaceChildren(...invitations.map((u) => el("tr", { "data-testid": `invited-${u.login}` },
    el("td", {}, `${u.full_name} (${u.login})`), el("td", {}, u.agency),
    el("td", {}, el("select", { "aria-label": t("invite.change"), onchange: (ev) => guarded(async () => {
      await api("POST", `${base}/invitations`, { login: u.login, role: ev.target.value });
      await loadInvited();
    }) }, ...ROLES.map((r) => el("option", { value: r, selected: r === u.role }, t(`role.${r}`))))))));
}

document.getElementById("find").addEventListener("submit", (ev) => { ev.preventDefault(); guarded(find); });
document.getElementById("pick").addEventListener("submit", (ev) => {
  ev.preventDefault();
  guarded(async () => {
    const logins = [...ev.target.querySelectorAll("input[name=login]:checked")].map((i) => i.value);
    if (!logins.length) return;
    const r = await api("POST", `${base}/invitations`, { logins, role: ev.target.role.value });
    flash(t("invite.done", { n: r.invited }));
    await Promise.all([find(), loadInvited()]);
  });
});
guarded(() => Promise.all([find(), loadInvited()]));
