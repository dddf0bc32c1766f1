// The leader's signature on a draft (/documents/drafts/{id}): find the signing agent, pair, pick
// the certificate, then prepare → agent → finish (web/static/signing/agent.js), and reload.
import { DEFAULT_PORT, SigningAgent, messages, signTwoPhase } from "../signing/agent.js";
import { formatDate } from "../format.js";

const panel = document.querySelector("[data-sign-draft]");
if (panel) {
  const draftId = panel.getAttribute("data-sign-draft");
  const csrf = panel.getAttribute("data-csrf");
  const status = panel.querySelector("[data-testid=agent-status]");
  const pairRow = panel.querySelector("[data-agent-pair]");
  const pairCode = panel.querySelector("[data-testid=pair-code]");
  const portInput = panel.querySelector("[data-testid=agent-port]");
  const certSelect = panel.querySelector("[data-testid=cert]");
  const signButton = panel.querySelector("[data-testid=sign]");
  const pinRow = panel.querySelector("[data-agent-pin]");
  const pinInput = panel.querySelector("[data-testid=demo-pin]");
  const texts = JSON.parse(panel.getAttribute("data-texts"));
  let agent = null;
  let certs = [];

  const say = (text, kind) => {
    status.textContent = text;
    status.className = "alert " + (kind === "error" ? "error" : "notice");
    panel.setAttribute("data-state", kind || "notice");
  };

  // "Common Name: Nguyễn Văn An, Title: …" → "Nguyễn Văn An" (the full subject is the tooltip)
  const shortName = (subject) => {
    const m = /Common Name: ([^,;]+)/.exec(subject || "");
    return m ? m[1] : subject;
  };
  // the subject's field labels in the page's language (web/subject.py gives the table)
  const fields = texts.fields || {};
  const labelled = (subject) =>
    (subject || "").replace(/(^|, |; )([A-Za-z/ ]+): /g, (all, sep, label) =>
      fields[label] ? `${sep}${fields[label]}: ` : all);

  const savedPort = () => {
    try {
      return localStorage.getItem("lienthong.agent.port");
    } catch (e) {
      return null;
    }
  };

  async function refresh() {
    const port = Number(portInput.value) || DEFAULT_PORT;
    try {
      localStorage.setItem("lienthong.agent.port", String(port));
    } catch (e) {
      /* ignore */
    }
    agent = new SigningAgent(port);
    signButton.disabled = true;
    pairRow.hidden = true;
    certSelect.innerHTML = "";
    say(texts.looking);
    const st = await agent.status();
    // only the demo agent of `make run` takes the PIN from the page (its demo token)
    pinRow.hidden = !st.demo;
    if (!st.running) {
      say(messages().unavailable(port), "error");
      return;
    }
    if (!st.paired) {
      pairRow.hidden = false;
      say(messages().not_paired, "notice");
      pairCode.focus();
      return;
    }
    try {
      certs = await agent.myCertificates();
    } catch (e) {
      say(e.message, "error");
      return;
    }
    certs.forEach((c, i) => {
      const opt = document.createElement("option");
      opt.value = String(i);
      opt.textContent = shortName(c.subject) + " · " + formatDate(c.not_after) + " · " + c.token_label;
      opt.title = labelled(c.subject);
      certSelect.appendChild(opt);
    });
    signButton.disabled = false;
    say(texts.ready, "ok");
  }

  panel.querySelector("[data-testid=pair]").addEventListener("click", async (ev) => {
    ev.preventDefault();
    try {
      await agent.pair(pairCode.value);
      pairCode.value = "";
      await refresh();
    } catch (e) {
      say(e.message, "error");
    }
  });

  panel.querySelector("[data-testid=agent-retry]").addEventListener("click", (ev) => {
    ev.preventDefault();
    refresh();
  });

  signButton.addEventListener("click", async (ev) => {
    ev.preventDefault();
    const cert = certs[Number(certSelect.value)];
    if (!cert) return;
    signButton.disabled = true;
    say(texts.signing);
    try {
      await signTwoPhase(agent, cert, {
        prepareUrl: "/api/v1/documents/drafts/" + draftId + "/sign/prepare",
        finishUrl: "/api/v1/documents/drafts/" + draftId + "/sign/finish",
        csrf,
        pin: pinRow.hidden ? undefined : pinInput.value,
      });
      pinInput.value = "";
      say(texts.signed, "ok");
      location.assign("/documents/drafts/" + draftId + "?signed=1");
    } catch (e) {
      say(e.message, "error");
      if (e.code === "agent.not_paired") {
        pairRow.hidden = false;
      }
      signButton.disabled = false;
    }
  });

  portInput.value = savedPort() || panel.getAttribute("data-agent-port") || String(DEFAULT_PORT);
  refresh();
}
