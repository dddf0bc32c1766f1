// "Sign the minutes" on the secretariat's desk: the local signing agent on this PC
// (web/static/signing/agent.js) signs the minutes with the secretariat's own token; the server
// prepares and finishes the file (/minutes/sign/prepare, /finish) and keeps it only when valid.
import { DEFAULT_PORT, SigningAgent, SigningAgentError, messages, signTwoPhase } from "../signing/agent.js";

function agentPort() {
  try {
    return Number(localStorage.getItem("lienthong.agent.port")) || DEFAULT_PORT;
  } catch (_e) {
    return DEFAULT_PORT;
  }
}

/**
 * Pair if needed (the six-digit code the agent shows), pick the certificate (``choose(certs)``
 * resolves to one of them when the token holds several), sign.
 */
export async function signMinutes(base, csrf, choose) {
  const agent = new SigningAgent(agentPort());
  const st = await agent.status();
  if (!st.running) throw new SigningAgentError("agent.unavailable", messages().unavailable(agent.port));
  if (!st.paired) {
    const code = window.prompt(messages().not_paired);
    if (!code) throw new SigningAgentError("agent.not_paired", messages().not_paired);
    await agent.pair(code);
  }
  const certs = await agent.myCertificates();
  const cert = certs.length === 1 ? certs[0] : await choose(certs);
  // only the demo agent of `make run` takes the (demo) PIN from the page; a real one asks itself
  const pin = st.demo ? window.prompt(messages().demo_pin) || "" : undefined;
  return signTwoPhase(agent, cert, {
    prepareUrl: `${base}/minutes/sign/prepare`,
    finishUrl: `${base}/minutes/sign/finish`,
    csrf,
    pin,
  });
}
