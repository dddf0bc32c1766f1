// Video briefings: our own controls (devices, mic, camera, hand, screen, sound only) and the
// connection quality we measure (quality.js) with its weak-network notice.

import { countersOf, sampleOf } from "./quality.js";
import { $, CAPS, IN_ROOM, PHASES, root, state, status, t } from "./roomstate.js";
import { send } from "./signal.js";
import { showSelf } from "./stage.js";

// Sound only while joined opens the devices again and renegotiates: room.js owns the connection
// and hands its reopen in (onReopen), so this module never imports it.
let reopen = async () => {};
export function onReopen(fn) {
  reopen = fn;
}

export function setPhase(phase) {
  if (!PHASES.includes(phase)) throw new Error(`unknown phase ${phase}`);
  state.phase = phase;
  root.dataset.phase = phase;
  updateControls();
}

/** Which controls may be used now: the room's own controls only once joined. */
export function updateControls() {
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

// ---------------------------------------------------------------- devices

export async function listDevices() {
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
export async function openMedia(gen) {
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

export function bitrateCap() {
  if (state.weak) return CAPS.weak;
  if (state.chair) return CAPS.chair;
  return state.endpoint ? CAPS.hall : CAPS.official;
}

// ---------------------------------------------------------------- own controls

export function setMic(off) {
  state.micOff = off;
  if (state.stream) state.stream.getAudioTracks().forEach((t) => (t.enabled = !off));
  $("toggle-mic").textContent = off ? t("room.mic_on") : t("room.mic_off");
  $("toggle-mic").setAttribute("aria-pressed", String(off));
  send({ type: "mute", audio: off, video: state.camOff });
}

export function setCam(off) {
  state.camOff = off;
  if (state.stream) state.stream.getVideoTracks().forEach((t) => (t.enabled = !off));
  $("toggle-cam").textContent = off ? t("room.cam_on") : t("room.cam_off");
  $("toggle-cam").setAttribute("aria-pressed", String(off));
  send({ type: "mute", audio: state.micOff, video: off });
}

export function showHand(raised) {
  state.hand = raised;
  $("hand").textContent = raised ? t("room.hand_down") : t("room.hand_up");
  $("hand").setAttribute("aria-pressed", String(raised));
}

export function setHand(raised) {
  showHand(raised);
  send({ type: "hand", raised });
}

export async function shareScreen() {
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

export async function stopShare() {
  if (!state.screen) return;
  state.screen.getTracks().forEach((t) => t.stop());
  state.screen = null;
  if (state.videoSender) await state.videoSender.replaceTrack(state.stream.getVideoTracks()[0]);
  $("share").textContent = t("room.share");
}

export async function setAudioOnly(on) {
  state.audioOnly = on;
  $("audio-only").checked = on;
  updateControls();
  if (state.phase !== "joined") return; // idle: used by the next join
  await reopen();
}

// ---------------------------------------------------------------- connection quality

export function setQuality(level) {
  const q = $("quality");
  q.dataset.level = level;
  q.title = { good: t("room.q.good"), fair: t("room.q.fair"), poor: t("room.q.poor"), unknown: "" }[
    level
  ];
}

/** The weak-network notice: our own measurement with its reason, else the server's. */
export function showWeak() {
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

export async function measure() {
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

// ---------------------------------------------------------------- the hall's wall (chair)

/** The chair's choice of the hall's wall: the roster's participants, read when the list opens. */
function fillWallChoice() {
  const select = $("wall-choice");
  const current = select.value;
  const options = [new Option("—", "")];
  for (const p of state.roster.values()) {
    if (p.id !== state.me) options.push(new Option(p.name, p.id));
  }
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

export function wireWallChoice() {
  const select = $("wall-choice");
  if (!select) return;
  select.addEventListener("focus", fillWallChoice);
  select.addEventListener("pointerdown", fillWallChoice);
  const wall = (action) => () => {
    if (select.value) send({ type: "chair", action, target: select.value });
  };
  $("wall-make").addEventListener("click", wall("wall"));
  $("wall-unmake").addEventListener("click", wall("wall_off"));
}
