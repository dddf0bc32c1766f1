// The browser side of the local signing agent (`lienthong sign-agent`, signing/agent.py).
//
// The agent runs on the signer's PC at http://127.0.0.1:<port> (8765 unless started with
// --port) and answers only the web origin it was started for (--origin): the page's own origin
// (location.origin) must be exactly that, or the agent refuses (it then sends no CORS headers,
// so the browser reports a network error, which we explain as "not running or paired with
// another address"). Pairing: the agent prints a six-digit code; the page posts it to /pair and
// keeps the bearer token it gets in localStorage (per agent port), so that reloads and other
// tabs of the same origin stay paired until the agent restarts.
//
// Two-phase signing: the server prepares the document and the signed attributes
// (prepare → {request_id, to_sign_b64, message_digest, ...}), the agent shows what it signs,
// asks the PIN and signs on the token (/sign → signature_b64), the server finishes the file.
// The server also checks the raw signature against the certificate before embedding it.
//
// ES module, no build step, no CDN: served from /static/signing/agent.js.

export const DEFAULT_PORT = 8765;

const MESSAGES = {
  vi: {
    unavailable: (port) =>
      "Không kết nối được công cụ ký trên máy này (cổng " + port + "). Hãy chạy “lienthong sign-agent --origin " +
      location.origin + "” rồi thử lại; nếu công cụ đang chạy cho địa chỉ khác, hãy khởi động lại với địa chỉ này.",
    not_paired: "Chưa ghép nối với công cụ ký: nhập mã ghép nối (6 chữ số) hiện trên cửa sổ công cụ ký.",
    bad_code: "Mã ghép nối không đúng.",
    pairing_locked: "Nhập sai mã ghép nối quá nhiều lần; hãy khởi động lại công cụ ký.",
    origin: "Công cụ ký đang ghép nối với một trang khác; hãy khởi động lại với --origin " + location.origin + ".",
    refused: "Người ký đã từ chối hoặc huỷ việc nhập mã PIN; văn bản chưa được ký.",
    demo_pin: "Công cụ ký DEMO: nhập mã PIN token demo (in ra khi chạy make run).",
    wrong_pin: "Mã PIN không đúng; văn bản chưa được ký.",
    pin_locked: "Token đã bị khoá mã PIN; liên hệ nhà cung cấp chữ ký số.",
    no_token: "Không thấy token ký số: hãy cắm token vào máy rồi bấm “Kiểm tra lại”.",
    no_certificate: "Token không có chứng thư số để ký.",
    no_own_certificate:
      "Token không có chứng thư số nào đã đăng ký cho tài khoản này (hoặc chứng thư đã hết hạn); hãy nhờ quản trị đăng ký chứng thư số của bạn.",
    failed: "Ký số không thành công.",
  },
  en: {
    unavailable: (port) =>
      "Cannot reach the signing agent on this computer (port " + port + "). Start “lienthong sign-agent --origin " +
      location.origin + "” and try again; if it runs for another address, restart it for this one.",
    not_paired: "Not paired with the signing agent: type the six-digit pairing code the agent shows.",
    bad_code: "Wrong pairing code.",
    pairing_locked: "Too many wrong pairing codes; restart the signing agent.",
    origin: "The signing agent is paired with another site; restart it with --origin " + location.origin + ".",
    refused: "The signer refused or cancelled the PIN; nothing was signed.",
    demo_pin: "DEMO signing agent: enter the demo token's PIN (printed by make run).",
    wrong_pin: "Wrong PIN; nothing was signed.",
    pin_locked: "The token's PIN is locked; contact the certificate provider.",
    no_token: "No signing token found: plug the token in and press “Check again”.",
    no_certificate: "The token holds no certificate to sign with.",
    no_own_certificate:
      "The token holds no valid certificate registered to this account; ask the administrator to register yours.",
    failed: "Signing failed.",
  },
};

export function messages() {
  return (document.documentElement.lang || "vi").startsWith("en") ? MESSAGES.en : MESSAGES.vi;
}

// An error with a stable code and a sentence for the signer.
export class SigningAgentError extends Error {
  constructor(code, text) {
    super(text);
    this.code = code;
  }
}

// Agent and server error codes → our message keys.
const CODE_TO_KEY = {
  "agent.not_paired": "not_paired",
  "agent.bad_code": "bad_code",
  "agent.pairing_locked": "pairing_locked",
  "agent.origin": "origin",
  "agent.refused": "refused",
  "signing.wrong_pin": "wrong_pin",
  "signing.pin_locked": "pin_locked",
  "signing.token_not_found": "no_token",
  "signing.key_not_found": "no_token",
  "signing.token": "no_token",
};

async function problem(resp) {
  let body = {};
  try {
    body = await resp.json();
  } catch (e) {
    body = {};
  }
  const key = CODE_TO_KEY[body.code];
  const detail = messages() === MESSAGES.en ? body.detail || body.detail_vi : body.detail_vi || body.detail;
  const text = key ? messages()[key] : detail || messages().failed;
  return new SigningAgentError(body.code || "http_" + resp.status, text);
}

export class SigningAgent {
  constructor(port) {
    this.port = Number(port) || DEFAULT_PORT;
    this.base = "http://127.0.0.1:" + this.port;
    this.storageKey = "lienthong.agent." + this.port;
  }

  get token() {
    try {
      return localStorage.getItem(this.storageKey);
    } catch (e) {
      return null;
    }
  }

  set token(value) {
    try {
      if (value) localStorage.setItem(this.storageKey, value);
      else localStorage.removeItem(this.storageKey);
    } catch (e) {
      /* storage refused (private mode): pairing lasts for this page only */
    }
    this._token = value;
  }

  async _fetch(path, options) {
    const headers = Object.assign({}, (options && options.headers) || {});
    const token = this._token || this.token;
    if (token) headers.Authorization = "Bearer " + token;
    let resp;
    try {
      resp = await fetch(this.base + path, Object.assign({ mode: "cors", cache: "no-store" }, options, { headers }));
    } catch (e) {
      throw new SigningAgentError("agent.unavailable", messages().unavailable(this.port));
    }
    if (!resp.ok) {
      const err = await problem(resp);
      if (err.code === "agent.not_paired") this.token = null;
      throw err;
    }
    return resp.json();
  }

  // {running, paired}: paired means this page holds a token the agent accepts.
  // demo: the demo agent of `make run`, which takes the (demo) PIN from the page.
  async status() {
    let demo = false;
    try {
      demo = Boolean((await this._fetch("/status")).demo);
    } catch (e) {
      if (e.code === "agent.unavailable") return { running: false, paired: false };
      throw e;
    }
    if (!this.token) return { running: true, paired: false, demo };
    try {
      await this.certificates();
      return { running: true, paired: true, demo };
    } catch (e) {
      if (e.code === "agent.not_paired") return { running: true, paired: false, demo };
      return { running: true, paired: true, demo, error: e };
    }
  }

  async pair(code) {
    const body = await this._fetch("/pair", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: String(code || "").trim() }),
    });
    this.token = body.token;
  }

  // Every signer certificate on the tokens present, with its chain: [{token_label, key_label,
  // subject, not_after, certificate_b64, chain_b64}]. Throws no_token when there is none.
  async certificates() {
    const body = await this._fetch("/certificates");
    const out = [];
    for (const t of body.tokens || []) {
      for (const c of t.certificates || []) {
        out.push(Object.assign({ token_label: t.label, chain_b64: t.chain_b64 || [] }, c));
      }
    }
    if (!(body.tokens || []).length) throw new SigningAgentError("no_token", messages().no_token);
    if (!out.length) throw new SigningAgentError("no_certificate", messages().no_certificate);
    return out;
  }

  // The picker's list: only the logged-in person's own certificates (those registered to them
  // and approved, GET /api/v1/me/certificates, matched by SHA-256 fingerprint), not expired: never
  // someone else's, never the agency seal. The server checks again when signing.
  async myCertificates() {
    const all = await this.certificates();
    const resp = await fetch("/api/v1/me/certificates", { credentials: "same-origin", cache: "no-store" });
    if (!resp.ok) throw await problem(resp);
    const mine = new Set(((await resp.json()).certificates || []).map((c) => c.fingerprint));
    const now = Date.now();
    const out = [];
    for (const c of all) {
      if (c.not_after && Date.parse(c.not_after) < now) continue;
      if (mine.has(await fingerprint(c.certificate_b64))) out.push(c);
    }
    if (!out.length) throw new SigningAgentError("no_own_certificate", messages().no_own_certificate);
    return out;
  }

  // pin: only for the demo agent (a real agent asks the PIN on its own window).
  async sign(prepared, cert, pin) {
    const body = await this._fetch("/sign", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        request_id: prepared.request_id,
        to_sign_b64: prepared.to_sign_b64,
        message_digest: prepared.message_digest,
        document_number: prepared.document_number || "",
        subject: prepared.subject || "",
        key_label: cert.key_label,
        token_label: cert.token_label,
        pin: pin || undefined,
      }),
    });
    return body.signature_b64;
  }
}

// SHA-256 of a base64 DER certificate, hex (as the server's registry keeps it).
export async function fingerprint(b64) {
  const der = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function postJson(url, data, csrf) {
  const resp = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf || "" },
    body: JSON.stringify(data),
  });
  if (!resp.ok) throw await problem(resp);
  return resp.json();
}

// prepare (server) → sign (agent, PIN asked there) → finish (server); returns finish's answer.
export async function signTwoPhase(agent, cert, { prepareUrl, finishUrl, csrf, extra, pin }) {
  const prepared = await postJson(
    prepareUrl,
    Object.assign({ certificate_b64: cert.certificate_b64, chain_b64: cert.chain_b64 }, extra || {}),
    csrf,
  );
  const signature = await agent.sign(prepared, cert, pin);
  return postJson(finishUrl, { request_id: prepared.request_id, signature_b64: signature }, csrf);
}
