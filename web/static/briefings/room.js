// Video briefings: the browser client of a briefing room.
// One RTCPeerConnection to the server: our camera and microphone go up (sendonly), and a fixed
// number of receiving slots come down (recvonly); the server says which endpoint fills each slot.
// Served from /static (CSP script-src 'self'): no inline script, no CDN.
// The entry module (the template loads only this one): connection, negotiation, frames and wiring.
// The rest, imported one way: rosterview.js -> controls.js -> stage.js -> signal.js -> roomstate.js.

import {
  bitrateCap,
  listDevices,
  measure,
  onReopen,
  openMedia,
  setAudioOnly,
  setCam,
  setHand,
  setMic,
  setPhase,
  setQuality,
  shareScreen,
  showWeak,
  wireWallChoice,
} from "./controls.js";
import { deviceId } from "./device.js";
import { createMonitor } from "./quality.js";
import {
  $,
  AUDIO_SLOTS,
  DEVICE_KEY,
  IN_ROOM,
  LANG,
  REJOIN_DELAYS,
  VIDEO_SLOTS,
  root,
  state,
  status,
  t,
} from "./roomstate.js";
import { applyDelta, applyRoster, renderRoll, rosterChanged } from "./rosterview.js";
import { send } from "./signal.js";
import { attachTrack, renderStage } from "./stage.js";


// ---------------------------------------------------------------- signaling

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const device = deviceId(DEVICE_KEY);
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
        slot.mismatch = Boolean(s.codec_mismatch); // its source's codec is not one we accept
        slot.codec = s.codec || null;
        state.slots.set(s.mid, slot);
      }
      rosterChanged(); // the roster flags an endpoint whose codec this device cannot take
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
    wireWallChoice();
  }
  window.addEventListener("online", () => scheduleRejoin(t("room.back_online")));
  setInterval(measure, 2000);
  setInterval(() => send({ type: "ping" }), 15000);
  setPhase("idle");
  status(t("room.ready"));
}

// for tests and support staff: the live peer connection and slots
window.lienThongBriefing = { state, pc: () => state.pc };

onReopen(reopen); // controls.js: sound only while joined reopens through the connection
wire();
