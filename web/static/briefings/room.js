// Video briefings: the browser client of a briefing room.
// One RTCPeerConnection to the server: our camera and microphone go up (sendonly), and a fixed
// number of receiving slots come down (recvonly); the server says which endpoint fills each slot.
// Served from /static (CSP script-src 'self'): no inline script, no CDN.

import { formatNumber, lang } from "../format.js";
import { countersOf, createMonitor, sampleOf } from "./quality.js";

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

// The client's phases: idle -> joining -> joined -> leaving -> idle, and joined <-> reconnecting.
// Every join, leave, rejoin and renegotiation bumps state.gen; whatever an older generation
// started (an awaited getUserMedia, an offer being gathered, its answer) is dropped when it lands.
const PHASES = ["idle", "joining", "joined", "leaving", "reconnecting"];
const IN_ROOM = new Set(["joining", "joined", "reconnecting"]);
const DEVICE_KEY = "lienthong.briefings.device";

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
  phase: "idle",
  gen: 0, // bumped by every join, leave, rejoin and renegotiation
  pcGen: 0, // the generation of state.pc
  offered: 0, // offers sent on the current socket
  answered: 0, // answers received on it (the server answers in order)
  negotiations: 0,
  ended: false,
  attempt: 0,
  slots: new Map(), // mid -> {kind, source, el}
  roster: new Map(),
  seq: null, // the roster's sequence number; null while waiting for a full roster
  speaker: null,
  spotlight: null,
  weak: false, // our own measurement (quality.js) says the link is weak
  weakReason: null,
  weakSince: 0,
  serverWeak: false, // the server sends us only the chair's picture
  recording: false,
  monitor: null,
  statsBase: null,
  connectedAt: 0,
};

/** A stable id for this browser, kept across page loads: the server tells a rejoin by it. */
function deviceId() {
  try {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
      const bytes = crypto.getRandomValues(new Uint8Array(12));
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  } catch {
    return ""; // storage refused: the server treats us as an unknown device
  }
}

function setPhase(phase) {
  if (!PHASES.includes(phase)) throw new Error(`unknown phase ${phase}`);
  state.phase = phase;
  root.dataset.phase = phase;
  updateControls();
}

/** Which controls may be used now: the room's own controls only once joined. */
function updateControls() {
  const phase = state.phase;
  const inRoom = phase === "joined" || phase === "reconnecting";
  for (const id of ["toggle-mic", "toggle-cam", "hand", "share"]) {
    if ($(id)) $(id).disabled = !inRoom;
  }
  if ($("toggle-cam")) $("toggle-cam").disabled = !inRoom || state.audioOnly;
  if ($("share")) $("share").disabled = !inRoom || state.audioOnly;
  $("leave").disabled = !IN_ROOM.has(phase);
  $("join").disabled = phase !== "idle" || state.ended;
  $("join").hidden = IN_ROOM.has(phase);
  const settled = phase === "idle" || phase === "joined";
  $("audio-only").disabled = !settled;
  $("camera").disabled = !settled || !$("camera").options.length;
  $("mic").disabled = !settled || !$("mic").options.length;
}

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
    if (current && [...select.options].some((o) => o.value === current)) select.value = current;
  }
  updateControls();
}

/** Open the chosen devices for generation gen; false (and nothing kept) when gen is over. */
async function openMedia(gen) {
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
    if (gen !== state.gen) return false;
    // no camera on this device: go on with sound only
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    state.audioOnly = true;
    $("audio-only").checked = true;
  }
  if (gen !== state.gen) {
    stream.getTracks().forEach((t) => t.stop()); // a leave or a newer join came first
    return false;
  }
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.stream = stream;
  stream.getAudioTracks().forEach((t) => (t.enabled = !state.micOff));
  stream.getVideoTracks().forEach((t) => (t.enabled = !state.camOff));
  showSelf();
  await listDevices(); // labels and ids are only given once permission is granted
  return true;
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
  const device = deviceId();
  const query = device ? `?device=${encodeURIComponent(device)}` : "";
  const old = state.ws;
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/briefings/${state.id}/signal${query}`);
  state.ws = ws;
  state.offered = 0;
  state.answered = 0;
  state.serverWeak = false; // a new socket is a new participant on the server
  showWeak();
  if (old) old.close(1000);
  status(t("room.connecting"));
  ws.onopen = () => {
    if (state.ws === ws) negotiate();
  };
  ws.onmessage = (ev) => {
    if (state.ws === ws) onFrame(JSON.parse(ev.data)); // frames of an older socket are dropped
  };
  ws.onclose = (ev) => {
    if (state.ws !== ws) return;
    if (ev.code === 4001) {
      onFrame({ type: "replaced" }); // this browser joined again from another window
      return;
    }
    scheduleRejoin(t("room.lost_server"));
  };
}

function scheduleRejoin(why) {
  if (!(state.phase === "joined" || state.phase === "reconnecting") || state.ended) return;
  const gen = ++state.gen;
  setPhase("reconnecting");
  const delay = REJOIN_DELAYS[Math.min(state.attempt, REJOIN_DELAYS.length - 1)];
  state.attempt += 1;
  status(t("room.reconnecting", { why }));
  setQuality("poor");
  clearTimeout(state.rejoinTimer);
  state.rejoinTimer = setTimeout(() => rejoin(gen), delay);
}

async function rejoin(gen) {
  if (gen !== state.gen) return;
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    negotiate();
    return;
  }
  // the handshake's status is hidden from WebSocket: ask whether the briefing is still on
  try {
    const resp = await fetch(`/api/v1/briefings/${state.id}`, { headers: { Accept: "application/json" } });
    if (gen !== state.gen) return;
    if (resp.ok && (await resp.json()).status === "ended") {
      onFrame({ type: "ended" });
      return;
    }
    if (resp.status === 401 || resp.status === 403 || resp.status === 404) {
      stopAll();
      status(t("room.no_access"));
      return;
    }
  } catch {
    // server unreachable: try the socket anyway, and again later
  }
  if (gen === state.gen) connect();
}

function bitrateCap() {
  if (state.weak) return CAPS.weak;
  if (state.chair) return CAPS.chair;
  return state.endpoint ? CAPS.hall : CAPS.official;
}

/** A new peer connection replacing the old one (torn down first), and its offer. */
async function negotiate() {
  const gen = ++state.gen;
  state.negotiations += 1;
  closePeer();
  if (!state.stream) return;
  const ws = state.ws;
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers: [] });
  state.pc = pc;
  state.pcGen = gen;
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
  pc.ontrack = (ev) => {
    if (pc === state.pc) attachTrack(ev.transceiver.mid, ev.track);
  };
  pc.onconnectionstatechange = () => onPeerState(pc);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  if (gen !== state.gen || pc !== state.pc || ws !== state.ws) return; // superseded meanwhile
  state.offered += 1;
  send({ type: "offer", sdp: pc.localDescription.sdp });
}

function onPeerState(pc) {
  if (pc !== state.pc) return; // an older connection, already replaced
  if (pc.connectionState === "connected") {
    state.attempt = 0;
    state.connectedAt = performance.now();
    state.monitor = createMonitor();
    state.statsBase = null;
    setPhase("joined");
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
}

/** The answer to our latest offer goes to the connection that made it; any other is dropped. */
async function onAnswer(sdp) {
  state.answered += 1;
  const pc = state.pc;
  if (!pc || state.answered !== state.offered || pc.signalingState !== "have-local-offer") return;
  const gen = state.pcGen;
  try {
    await pc.setRemoteDescription({ type: "answer", sdp });
  } catch (err) {
    if (pc === state.pc && gen === state.pcGen) scheduleRejoin(t("room.lost_network"));
  }
}

function closePeer() {
  const pc = state.pc;
  state.pc = null;
  state.videoSender = null;
  state.audioSender = null;
  if (pc) {
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    pc.close();
  }
  for (const slot of state.slots.values()) slot.el?.remove();
  state.slots.clear();
  state.monitor = null;
  state.statsBase = null;
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
      await onAnswer(f.sdp);
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
      state.serverWeak = f.on ? f.reason || "loss" : false;
      if (f.on) console.info(`briefing: the server finds our link weak ${JSON.stringify(f)}`);
      showWeak();
      break;
    case "ended":
      state.ended = true;
      status(t("room.ended_status"));
      stopAll();
      break;
    case "replaced":
      stopAll();
      status(t("room.elsewhere"));
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
  updateControls();
  if (state.phase !== "joined") return; // idle: used by the next join
  await reopen();
}

/** Joined: open the devices again (audio only, another camera) and renegotiate. */
async function reopen() {
  if (state.phase !== "joined") return;
  const gen = ++state.gen;
  if (await openMedia(gen)) negotiate();
}

/** Tear everything down (leave, end, replaced, no access): back to idle. */
function stopAll() {
  state.gen += 1;
  clearTimeout(state.rejoinTimer);
  closePeer();
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  if (state.screen) state.screen.getTracks().forEach((t) => t.stop());
  state.stream = null;
  state.screen = null;
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close(1000);
  state.weak = false;
  state.serverWeak = false;
  showWeak();
  setQuality("unknown");
  setPhase("idle");
}

// ---------------------------------------------------------------- connection quality

function setQuality(level) {
  const q = $("quality");
  q.dataset.level = level;
  q.title = { good: t("room.q.good"), fair: t("room.q.fair"), poor: t("room.q.poor"), unknown: "" }[
    level
  ];
}

/** The weak-network notice: our own measurement with its reason, else the server's. */
function showWeak() {
  const box = $("weak");
  if (!box) return;
  const text = state.weak
    ? t(`room.weak.${state.weakReason}`)
    : state.serverWeak
      ? t(`room.weak_server.${state.serverWeak}`)
      : "";
  if (box.textContent !== text) box.textContent = text;
  box.hidden = !text;
  root.dataset.weak = state.weak ? state.weakReason : state.serverWeak ? "server" : "";
}

function capVideo(bitrate) {
  const sender = state.videoSender;
  if (!sender) return;
  const params = sender.getParameters();
  if (params.encodings && params.encodings[0]) {
    params.encodings[0].maxBitrate = bitrate;
    sender.setParameters(params).catch(() => {});
  }
}

async function measure() {
  const pc = state.pc;
  if (!pc || pc.connectionState !== "connected" || !state.monitor) return;
  const report = await pc.getStats();
  if (pc !== state.pc || !state.monitor) return; // replaced while reading
  const counters = countersOf(report.values());
  let fps = 0;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video" && s.framesPerSecond) {
      fps = Math.max(fps, s.framesPerSecond);
    }
  });
  const now = performance.now();
  const base = state.statsBase;
  state.statsBase = counters;
  if (!base) return; // the first reading of a connection is its baseline, not a sample
  const sample = sampleOf(base, counters, now, now - state.connectedAt);
  const verdict = state.monitor.push(sample);
  setQuality(verdict.level);
  send({
    type: "quality",
    rtt_ms: counters.rtt == null ? 0 : counters.rtt * 1000,
    loss: Math.max(sample.lossIn, sample.lossOut),
    fps,
  });
  if (verdict.weak !== state.weak || verdict.reason !== state.weakReason) {
    state.weak = verdict.weak;
    state.weakReason = verdict.reason;
    state.weakSince = verdict.weak ? state.weakSince || now : 0;
    capVideo(bitrateCap()); // weak: our own video is capped first
    showWeak();
  }
  // still short of bandwidth after 20 s with the cap: fall back to sound only
  if (state.weak && state.weakReason === "bandwidth" && !state.audioOnly && now - state.weakSince > 20000) {
    status(t("room.weak_audio"));
    setAudioOnly(true);
  }
}

// ---------------------------------------------------------------- wiring

async function join() {
  if (state.phase !== "idle" || state.ended) return;
  const gen = ++state.gen;
  state.audioOnly = $("audio-only").checked;
  setPhase("joining");
  let opened;
  try {
    opened = await openMedia(gen);
  } catch (err) {
    if (gen !== state.gen) return;
    setPhase("idle");
    status(t("room.no_devices"));
    return;
  }
  if (!opened || gen !== state.gen) return; // left while the devices were opening
  connect();
}

function leave() {
  if (!IN_ROOM.has(state.phase)) return;
  setPhase("leaving");
  stopAll();
  status(t("room.left"));
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
  $("camera").addEventListener("change", reopen);
  $("mic").addEventListener("change", reopen);
  $("leave").addEventListener("click", leave);
  navigator.mediaDevices?.addEventListener?.("devicechange", () => state.stream && listDevices());
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
  window.addEventListener("online", () => scheduleRejoin(t("room.back_online")));
  setInterval(measure, 2000);
  setInterval(() => send({ type: "ping" }), 15000);
  setPhase("idle");
  status(t("room.ready"));
}

// for tests and support staff: the live peer connection and slots
window.lienThongBriefing = { state, pc: () => state.pc };

wire();
