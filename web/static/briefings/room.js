// Video briefings: the browser client of a briefing room.
// One RTCPeerConnection to the server: our camera and microphone go up (sendonly), and a fixed
// number of receiving slots come down (recvonly); the server says which endpoint fills each slot.
// Served from /static (CSP script-src 'self'): no inline script, no CDN.

import { formatNumber, lang } from "../format.js";

const TEXTS = JSON.parse(document.getElementById("lt-texts")?.textContent || "{}");
const LANG = lang();
/** The page's text for key (web/briefings/texts.py), {name} filled from vars. */
function t(key, vars = {}) {
  return (TEXTS[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

const AUDIO_SLOTS = 3;
const VIDEO_SLOTS = 5; // the chair plus four most recently active endpoints (last-N)
const REJOIN_DELAYS = [300, 700, 1000, 1500, 2000, 3000];
const CAPS = { chair: 1_200_000, hall: 800_000, official: 500_000, weak: 250_000 };

const root = document.getElementById("room");
const $ = (id) => document.getElementById(id);

const state = {
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
  joined: false,
  leaving: false,
  ended: false,
  attempt: 0,
  slots: new Map(), // mid -> {kind, source, el}
  roster: new Map(),
  seq: null, // the roster's sequence number; null while waiting for a full roster
  speaker: null,
  spotlight: null,
  weak: false,
  recording: false,
  poorSince: 0,
  lastStats: null,
};

function status(text) {
  $("status").textContent = text;
}

function nameOf(id) {
  const p = state.roster.get(id);
  return p ? p.name : "";
}

// ---------------------------------------------------------------- devices

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [select, kind] of [[$("camera"), "videoinput"], [$("mic"), "audioinput"]]) {
    const current = select.value;
    select.replaceChildren();
    for (const d of devices.filter((x) => x.kind === kind)) {
      const opt = document.createElement("option");
      opt.value = d.deviceId;
      opt.textContent = d.label || (kind === "videoinput" ? t("room.camera") : t("room.mic"));
      select.append(opt);
    }
    if (current) select.value = current;
  }
}

async function openMedia() {
  const cam = $("camera").value;
  const mic = $("mic").value;
  const wantVideo = !state.audioOnly;
  const constraints = {
    audio: mic ? { deviceId: { exact: mic } } : true,
    video: wantVideo
      ? { ...(cam ? { deviceId: { exact: cam } } : {}), width: 640, height: 360, frameRate: 30 }
      : false,
  };
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    // no camera on this device: go on with sound only
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    state.audioOnly = true;
    $("audio-only").checked = true;
  }
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.stream = stream;
  stream.getAudioTracks().forEach((t) => (t.enabled = !state.micOff));
  stream.getVideoTracks().forEach((t) => (t.enabled = !state.camOff));
  showSelf();
  await listDevices();
}

function showSelf() {
  let tile = document.querySelector(".tile.self");
  if (!tile) {
    tile = makeTile("self", "video");
    tile.classList.add("self");
    tile.querySelector(".label").textContent = t("room.you");
    $("stage").append(tile);
  }
  const video = tile.querySelector("video");
  video.muted = true;
  video.srcObject = state.stream;
  tile.hidden = state.audioOnly;
}

// ---------------------------------------------------------------- signaling

function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/briefings/${state.id}/signal`);
  state.ws = ws;
  status(t("room.connecting"));
  ws.onopen = () => negotiate();
  ws.onmessage = (ev) => onFrame(JSON.parse(ev.data));
  ws.onclose = () => {
    if (state.ws === ws) scheduleRejoin(t("room.lost_server"));
  };
}

function scheduleRejoin(why) {
  if (state.leaving || state.ended) return;
  const delay = REJOIN_DELAYS[Math.min(state.attempt, REJOIN_DELAYS.length - 1)];
  state.attempt += 1;
  status(t("room.reconnecting", { why }));
  setQuality("poor");
  clearTimeout(state.rejoinTimer);
  state.rejoinTimer = setTimeout(async () => {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      negotiate();
      return;
    }
    // the handshake's status is hidden from WebSocket: ask whether the briefing is still on
    try {
      const resp = await fetch(`/api/v1/briefings/${state.id}`, { headers: { Accept: "application/json" } });
      if (resp.ok && (await resp.json()).status === "ended") {
        onFrame({ type: "ended" });
        return;
      }
      if (resp.status === 401 || resp.status === 403 || resp.status === 404) {
        state.leaving = true;
        status(t("room.no_access"));
        stopAll();
        return;
      }
    } catch {
      // server unreachable: try the socket anyway, and again later
    }
    connect();
  }, delay);
}

function bitrateCap() {
  if (state.weak) return CAPS.weak;
  if (state.chair) return CAPS.chair;
  return state.endpoint ? CAPS.hall : CAPS.official;
}

async function negotiate() {
  state.negotiations = (state.negotiations || 0) + 1;
  if (state.pc) state.pc.close();
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers: [] });
  state.pc = pc;
  const audioTrack = state.stream.getAudioTracks()[0];
  const videoTrack = state.screen
    ? state.screen.getVideoTracks()[0]
    : state.stream.getVideoTracks()[0];
  state.audioSender = audioTrack
    ? pc.addTransceiver(audioTrack, { direction: "sendonly" }).sender
    : null;
  state.videoSender = null;
  if (!state.audioOnly && videoTrack) {
    state.videoSender = pc.addTransceiver(videoTrack, {
      direction: "sendonly",
      sendEncodings: [{ maxBitrate: bitrateCap() }],
    }).sender;
  }
  for (let i = 0; i < AUDIO_SLOTS; i++) pc.addTransceiver("audio", { direction: "recvonly" });
  const videoSlots = state.audioOnly ? 0 : VIDEO_SLOTS;
  for (let i = 0; i < videoSlots; i++) pc.addTransceiver("video", { direction: "recvonly" });
  pc.ontrack = (ev) => attachTrack(ev.transceiver.mid, ev.track);
  pc.onconnectionstatechange = () => {
    if (pc !== state.pc) return;
    if (pc.connectionState === "connected") {
      state.attempt = 0;
      status(state.audioOnly ? t("room.connected_audio") : t("room.connected"));
    } else if (pc.connectionState === "failed") {
      scheduleRejoin(t("room.lost_network"));
    } else if (pc.connectionState === "disconnected") {
      setTimeout(() => {
        if (pc === state.pc && pc.connectionState === "disconnected") {
          scheduleRejoin(t("room.flaky"));
        }
      }, 1500);
    }
  };
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  send({ type: "offer", sdp: pc.localDescription.sdp });
}

function gathered(pc) {
  // the server takes no trickled candidates: wait for gathering (host candidates are quick)
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 2000);
  });
}

async function onFrame(f) {
  switch (f.type) {
    case "welcome":
      state.me = f.you;
      // a rejoin: our own mutes are ours to tell (a hand and the chair's mute are the room's)
      if (state.micOff || state.camOff) {
        send({ type: "mute", audio: state.micOff, video: state.camOff });
      }
      break;
    case "answer":
      await state.pc.setRemoteDescription({ type: "answer", sdp: f.sdp });
      break;
    case "slots":
      for (const s of f.slots) {
        const slot = state.slots.get(s.mid) || { kind: s.kind, el: null };
        slot.source = s.source;
        state.slots.set(s.mid, slot);
      }
      renderStage();
      break;
    case "roster":
      applyRoster(f);
      break;
    case "delta":
      applyDelta(f);
      break;
    case "speaker":
      state.speaker = f.id;
      renderStage();
      break;
    case "spotlight":
      state.spotlight = f.id;
      renderStage();
      break;
    case "muted":
      setMic(true);
      status(t("room.muted_by_chair"));
      break;
    case "floor":
      setMic(false);
      setHand(false);
      status(t("room.invited_to_speak"));
      break;
    case "roll_call":
      renderRoll(f.entries);
      break;
    case "recording":
      state.recording = f.on;
      $("rec").hidden = !f.on;
      if ($("record")) {
        $("record").textContent = f.on ? t("room.record_stop") : t("room.record");
        $("record").setAttribute("aria-pressed", String(f.on));
      }
      break;
    case "weak":
      status(f.on ? t("room.weak_on") : t("room.weak_off"));
      break;
    case "ended":
      state.ended = true;
      status(t("room.ended_status"));
      stopAll();
      break;
    case "replaced":
      state.leaving = true;
      status(t("room.elsewhere"));
      stopAll();
      break;
    case "error":
      status(t("room.error", { detail: (LANG === "en" ? f.detail : f.detail_vi) || f.detail }));
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- roster: full, then deltas
// The server sends the whole roster on join (and on resync), then one numbered delta per change
// of one participant. A gap in the numbers means deltas were lost: ask for the whole roster once.

function applyRoster(f) {
  state.roster = new Map(f.participants.map((p) => [p.id, p]));
  state.seq = f.seq;
  state.spotlight = f.spotlight;
  state.speaker = f.speaker;
  rosterChanged();
}

function applyDelta(f) {
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

function rosterChanged() {
  const mine = state.roster.get(state.me);
  if (mine && mine.hand !== state.hand) showHand(mine.hand); // kept, or lowered by the chair
  renderRoster();
  renderStage();
}

// ---------------------------------------------------------------- stage

function makeTile(mid, kind) {
  const tile = document.createElement("figure");
  tile.className = `tile ${kind}`;
  tile.dataset.mid = mid;
  const media = document.createElement(kind === "video" ? "video" : "audio");
  media.autoplay = true;
  media.playsInline = true;
  tile.append(media);
  const label = document.createElement("figcaption");
  label.className = "label";
  tile.append(label);
  return tile;
}

function attachTrack(mid, track) {
  const slot = state.slots.get(mid) || { kind: track.kind, source: null };
  if (!slot.el) {
    slot.el = makeTile(mid, track.kind);
    slot.el.dataset.testid = `slot-${mid}`;
    (track.kind === "audio" ? $("stage-audio") || $("stage") : $("stage")).append(slot.el);
  }
  slot.el.querySelector(track.kind === "video" ? "video" : "audio").srcObject = new MediaStream([
    track,
  ]);
  state.slots.set(mid, slot);
  renderStage();
}

function renderStage() {
  const layout = $("layout").value;
  const stage = $("stage");
  stage.className = `stage layout-${layout}`;
  let chairMid = null;
  for (const [mid, slot] of state.slots) {
    if (!slot.el) continue;
    const p = slot.source ? state.roster.get(slot.source) : null;
    slot.el.hidden = slot.kind === "audio" || !slot.source;
    slot.el.querySelector(".label").textContent = p ? p.name : "";
    slot.el.classList.toggle("chair", Boolean(p && p.chair));
    slot.el.classList.toggle("speaking", Boolean(p && p.id === state.speaker));
    slot.el.classList.toggle("spotlight", Boolean(p && p.id === state.spotlight));
    slot.el.dataset.source = slot.source || "";
    if (slot.kind === "video" && p && p.chair) chairMid = mid;
    let big = false;
    if (layout === "hall") big = slot.kind === "video" && (p ? p.chair || p.id === state.spotlight : false);
    if (layout === "speaker") big = slot.kind === "video" && Boolean(p) && p.id === (state.spotlight || state.speaker);
    slot.el.classList.toggle("big", big);
  }
  root.dataset.chairMid = chairMid || "";
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
    ].filter(Boolean);
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

function renderRoll(entries) {
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

// ---------------------------------------------------------------- own controls

function setMic(off) {
  state.micOff = off;
  if (state.stream) state.stream.getAudioTracks().forEach((t) => (t.enabled = !off));
  $("toggle-mic").textContent = off ? t("room.mic_on") : t("room.mic_off");
  $("toggle-mic").setAttribute("aria-pressed", String(off));
  send({ type: "mute", audio: off, video: state.camOff });
}

function setCam(off) {
  state.camOff = off;
  if (state.stream) state.stream.getVideoTracks().forEach((t) => (t.enabled = !off));
  $("toggle-cam").textContent = off ? t("room.cam_on") : t("room.cam_off");
  $("toggle-cam").setAttribute("aria-pressed", String(off));
  send({ type: "mute", audio: state.micOff, video: off });
}

function showHand(raised) {
  state.hand = raised;
  $("hand").textContent = raised ? t("room.hand_down") : t("room.hand_up");
  $("hand").setAttribute("aria-pressed", String(raised));
}

function setHand(raised) {
  showHand(raised);
  send({ type: "hand", raised });
}

async function shareScreen() {
  if (state.screen) {
    stopShare();
    return;
  }
  try {
    state.screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
  } catch {
    status(t("room.share_failed"));
    return;
  }
  const track = state.screen.getVideoTracks()[0];
  track.addEventListener("ended", stopShare);
  if (state.videoSender) await state.videoSender.replaceTrack(track);
  $("share").textContent = t("room.share_stop");
}

async function stopShare() {
  if (!state.screen) return;
  state.screen.getTracks().forEach((t) => t.stop());
  state.screen = null;
  if (state.videoSender) await state.videoSender.replaceTrack(state.stream.getVideoTracks()[0]);
  $("share").textContent = t("room.share");
}

async function setAudioOnly(on) {
  state.audioOnly = on;
  $("audio-only").checked = on;
  if (!state.joined) return;
  await openMedia();
  negotiate();
}

function stopAll() {
  clearTimeout(state.rejoinTimer);
  if (state.pc) state.pc.close();
  state.pc = null;
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  if (state.screen) state.screen.getTracks().forEach((t) => t.stop());
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close();
  setQuality("unknown");
}

// ---------------------------------------------------------------- connection quality

function setQuality(level) {
  const q = $("quality");
  q.dataset.level = level;
  q.title = { good: t("room.q.good"), fair: t("room.q.fair"), poor: t("room.q.poor"), unknown: "" }[
    level
  ];
}

async function measure() {
  const pc = state.pc;
  if (!pc || pc.connectionState !== "connected") return;
  const report = await pc.getStats();
  let rtt = 0;
  let lost = 0;
  let received = 0;
  let fps = 0;
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime != null) {
      rtt = s.currentRoundTripTime * 1000;
    }
    if (s.type === "inbound-rtp") {
      lost += s.packetsLost || 0;
      received += s.packetsReceived || 0;
      if (s.kind === "video" && s.framesPerSecond) fps = Math.max(fps, s.framesPerSecond);
    }
  });
  const prev = state.lastStats || { lost: 0, received: 0 };
  const dl = lost - prev.lost;
  const dr = received - prev.received;
  state.lastStats = { lost, received };
  const loss = dl + dr > 0 ? Math.max(0, dl) / (dl + dr) : 0;
  const level = loss > 0.08 || rtt > 600 ? "poor" : loss > 0.02 || rtt > 250 ? "fair" : "good";
  setQuality(level);
  send({ type: "quality", rtt_ms: rtt, loss, fps });
  // low bandwidth: cap our own video first, then fall back to sound only
  if (level === "poor") {
    state.poorSince = state.poorSince || Date.now();
    if (!state.weak && state.videoSender) {
      state.weak = true;
      const params = state.videoSender.getParameters();
      if (params.encodings && params.encodings[0]) {
        params.encodings[0].maxBitrate = CAPS.weak;
        state.videoSender.setParameters(params).catch(() => {});
      }
    } else if (!state.audioOnly && Date.now() - state.poorSince > 15000) {
      status(t("room.weak_audio"));
      setAudioOnly(true);
    }
  } else {
    state.poorSince = 0;
  }
}

// ---------------------------------------------------------------- wiring

async function join() {
  $("join").disabled = true;
  state.audioOnly = $("audio-only").checked;
  state.leaving = false;
  try {
    await openMedia();
  } catch (err) {
    status(t("room.no_devices"));
    $("join").disabled = false;
    return;
  }
  state.joined = true;
  $("join").hidden = true;
  connect();
}

function wire() {
  if (root.dataset.ended === "true") return;
  $("join").addEventListener("click", join);
  $("toggle-mic").addEventListener("click", () => setMic(!state.micOff));
  $("toggle-cam").addEventListener("click", () => setCam(!state.camOff));
  $("hand").addEventListener("click", () => setHand(!state.hand));
  $("share").addEventListener("click", shareScreen);
  $("audio-only").addEventListener("change", (e) => setAudioOnly(e.target.checked));
  $("layout").addEventListener("change", renderStage);
  $("camera").addEventListener("change", async () => state.joined && (await openMedia(), negotiate()));
  $("mic").addEventListener("change", async () => state.joined && (await openMedia(), negotiate()));
  $("leave").addEventListener("click", () => {
    state.leaving = true;
    stopAll();
    status(t("room.left"));
    $("join").disabled = false;
    $("join").hidden = false;
  });
  if (state.chair) {
    const chair = (action) => () => send({ type: "chair", action });
    $("roll-call").addEventListener("click", chair("roll_call"));
    $("mute-all").addEventListener("click", chair("mute_all"));
    $("lower-hands").addEventListener("click", chair("lower_hands"));
    $("unspotlight").addEventListener("click", chair("unspotlight"));
    $("record").addEventListener("click", () =>
      send({ type: "chair", action: state.recording ? "record_stop" : "record_start" }),
    );
    $("end").addEventListener("click", () => {
      if (confirm(t("room.end_confirm"))) send({ type: "chair", action: "end" });
    });
  }
  window.addEventListener("online", () => state.joined && scheduleRejoin(t("room.back_online")));
  setInterval(measure, 2000);
  setInterval(() => send({ type: "ping" }), 15000);
  status(t("room.ready"));
}

// for tests and support staff: the live peer connection and slots
window.lienThongBriefing = { state, pc: () => state.pc };

wire();
