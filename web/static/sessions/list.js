import { api } from "./common.js";

const form = document.getElementById("new-session");
form?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  if (!data.starts_on) delete data.starts_on;
  const s = await api("POST", "/api/v1/sessions", data);
  location.href = `/sessions/${s.id}`;
});
