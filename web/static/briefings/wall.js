// Video briefings: the hall's wall (màn hình hội trường), /briefings/{id}/wall.
// Every commune, 25 tiles a page, for the roll call: the server fills our video slots with the
// page's communes (slot i shows tile i) and sends, with the slots, the page, the page count and
// who on the page is not connected. We publish nothing: the offer is 25 receiving video slots,
// in VP8 and H.264 constrained baseline (what the server forwards), VP8 alone when the browser
// has no such H.264 or the offer would outgrow SDP_BUDGET; a commune in a codec we did not offer
// gets a tile that says so.
// The chair opening this page makes itself the wall; anyone else waits for the chair to choose
// it. The page is turned by the buttons or the keys (← →, PageUp/PageDown). Entry module of the
// page (CSP script-src 'self'): it imports only the shared formatting helpers and the device id.

import { lang } from "../format.js";
import { deviceId } from "./device.js";

const TEXTS = JSON.parse(document.getElementById("lt-texts")?.textContent || "{}");
const LANG = lang();
const SLOTS = 25;
const DEVICE_KEY = "lienthong.briefings.wall-device";
const REJOIN_DELAYS = [500, 1000, 2000, 3000, 5000];
// The server refuses an SDP over 96 KiB (messages.MAX_SDP). Chromium 156's offer of 25 slots is
// about 30 KB in VP8 alone, 36 KB with one H.264 entry, 125 KB with every codec it knows.
const SDP_BUDGET = 64 * 1024;
const root = document.getElementById("wall");
const $ = (id) => document.getElementById(id);

function t(key, vars = {}) {
  return (TEXTS[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

const state = {
  id: root.dataset.briefing,
  chair: root.dataset.chair === "true",
  me: null,
  ws: null,
  pc: null,
  isWall: false,
  wall: null, // the last page state: {page, pages, size, total, tiles, missing, missing_total}
  slots: new Map(), // mid -> {source, codec, codec_mismatch}, from the last slots frame
  attempt: 0,
  ended: false,
};


function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

function status(text) {
  $("wall-status").textContent = text;
}

// ---------------------------------------------------------------- connection

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const device = deviceId(DEVICE_KEY);
  const query = device ? `?device=${encodeURIComponent(device)}` : "";
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/briefings/${state.id}/signal${query}`);
  state.ws = ws;
  status(t("room.connecting"));
  ws.onopen = () => {
    if (state.ws === ws) negotiate();
  };
  ws.onmessage = (ev) => {
    if (state.ws === ws) onFrame(JSON.parse(ev.data));
  };
  ws.onclose = (ev) => {
    if (state.ws !== ws || state.ended || ev.code === 4001) {
      if (ev.code === 4001) status(t("room.elsewhere"));
      return;
    }
    const delay = REJOIN_DELAYS[Math.min(state.attempt, REJOIN_DELAYS.length - 1)];
    state.attempt += 1;
    status(t("room.reconnecting", { why: t("room.lost_server") }));
    setTimeout(connect, delay);
  };
}

async function negotiate() {
  if (state.pc) state.pc.close();
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers: [] });
  state.pc = pc;
  const transceivers = [];
  for (let i = 0; i < SLOTS; i++) {
    transceivers.push(pc.addTransceiver("video", { direction: "recvonly" }));
  }
  const [both, vp8] = slotCodecs();
  prefer(transceivers, both);
  pc.ontrack = () => {
    if (pc === state.pc) render();
  };
  pc.onconnectionstatechange = () => {
    if (pc !== state.pc) return;
    if (pc.connectionState === "connected") {
      state.attempt = 0;
      status(t("room.connected"));
    } else if (pc.connectionState === "failed" && state.ws) {
      state.ws.close(1000); // the socket's close rejoins
    }
  };
  let offer = await pc.createOffer();
  if (offer.sdp.length > SDP_BUDGET && both.length > vp8.length) {
    prefer(transceivers, vp8);
    offer = await pc.createOffer();
  }
  await pc.setLocalDescription(offer);
  await gathered(pc);
  if (pc === state.pc) send({ type: "offer", sdp: pc.localDescription.sdp });
}

// What our slots offer: [VP8 and one H.264 constrained baseline, packetization mode 1 (plain
// baseline if that is all there is), VP8 alone]. Every codec the browser knows on 25 m-lines
// would pass the signaling frame's size limit.
function slotCodecs() {
  const caps = (RTCRtpReceiver.getCapabilities && RTCRtpReceiver.getCapabilities("video")) || null;
  const codecs = caps ? caps.codecs : [];
  const vp8 = codecs.filter((c) => c.mimeType.toLowerCase() === "video/vp8");
  const h264 = (profile) =>
    codecs.find(
      (c) =>
        c.mimeType.toLowerCase() === "video/h264" &&
        /packetization-mode=1/.test(c.sdpFmtpLine || "") &&
        new RegExp(`profile-level-id=${profile}`, "i").test(c.sdpFmtpLine || ""),
    );
  const baseline = h264("42e0") || h264("4200");
  return [baseline ? [...vp8, baseline] : vp8, vp8];
}

function prefer(transceivers, codecs) {
  if (!codecs.length) return;
  for (const tr of transceivers) if (tr.setCodecPreferences) tr.setCodecPreferences(codecs);
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
    setTimeout(resolve, 2000);
  });
}

function onFrame(f) {
  switch (f.type) {
    case "welcome":
      state.me = f.you;
      if (state.chair) send({ type: "chair", action: "wall", target: f.you });
      break;
    case "answer":
      if (state.pc && state.pc.signalingState === "have-local-offer") {
        state.pc.setRemoteDescription({ type: "answer", sdp: f.sdp }).catch(() => {});
      }
      break;
    case "wall":
      state.isWall = f.on;
      if (!f.on) state.wall = null;
      render();
      break;
    case "slots":
      state.slots = new Map(f.slots.map((s) => [s.mid, s]));
      if (f.wall) {
        state.isWall = true;
        state.wall = f.wall;
      }
      render();
      break;
    case "ended":
      state.ended = true;
      status(t("room.ended_status"));
      if (state.pc) state.pc.close();
      break;
    case "replaced":
      status(t("room.elsewhere"));
      break;
    case "error":
      status(t("room.error", { detail: (LANG === "en" ? f.detail : f.detail_vi) || f.detail }));
      break;
    default:
      break; // the roster's frames: the wall's page state comes with the slots
  }
}

// ---------------------------------------------------------------- the page

function trackOf(mid) {
  const pc = state.pc;
  if (!pc || !mid) return null;
  const tr = pc.getTransceivers().find((x) => x.mid === mid);
  return tr ? tr.receiver.track : null;
}

function tileFor(i) {
  const grid = $("wall-grid");
  let tile = grid.children[i];
  if (!tile) {
    tile = document.createElement("li");
    tile.className = "wall-tile";
    const video = document.createElement("video");
    video.autoplay = true;
    video.muted = true;
    video.playsInline = true;
    const label = document.createElement("span");
    label.className = "wall-name";
    const flag = document.createElement("span");
    flag.className = "wall-flag";
    tile.append(video, label, flag);
    grid.append(tile);
  }
  return tile;
}

function renderTile(i, info) {
  const tile = tileFor(i);
  tile.hidden = !info;
  if (!info) return;
  tile.dataset.commune = info.id;
  tile.dataset.connected = String(info.connected);
  tile.dataset.mid = info.mid || "";
  tile.querySelector(".wall-name").textContent = info.name;
  // a commune in a codec this screen did not offer fills its slot but sends nothing to it
  const slot = info.mid ? state.slots.get(info.mid) : null;
  const mismatch = Boolean(slot && slot.source === info.id && slot.codec_mismatch);
  tile.dataset.codecMismatch = String(mismatch);
  tile.querySelector(".wall-flag").textContent = !info.connected
    ? t("wall.offline")
    : mismatch
      ? t("room.flag.codec", { codec: slot.codec || "" })
      : info.mid
        ? ""
        : t("wall.no_video");
  const video = tile.querySelector("video");
  const track = mismatch ? null : trackOf(info.mid);
  if (!track) {
    video.srcObject = null;
  } else if (!video.srcObject || video.srcObject.getVideoTracks()[0] !== track) {
    video.srcObject = new MediaStream([track]);
  }
  video.hidden = !track;
}

function render() {
  const w = state.wall;
  $("wall-waiting").hidden = state.isWall || state.chair;
  const page = w ? w.page : 0;
  const pages = w ? w.pages : 0;
  $("wall-page").textContent = w ? t("wall.page", { page, pages }) : "";
  $("wall-prev").disabled = !w || page <= 1;
  $("wall-next").disabled = !w || page >= pages;
  const tiles = w ? w.tiles : [];
  for (let i = 0; i < SLOTS; i++) renderTile(i, tiles[i]);
  root.dataset.page = String(page);
  $("wall-missing").textContent = !w
    ? ""
    : w.missing.length
      ? t("wall.missing", { names: w.missing.join(", ") })
      : t("wall.missing_none");
  $("wall-total").textContent = w
    ? t("wall.missing_total", { missing: w.missing_total, total: w.total })
    : "";
}

function turn(delta) {
  const w = state.wall;
  if (!w) return;
  const page = Math.min(Math.max(1, w.page + delta), w.pages);
  if (page !== w.page) send({ type: "wall_page", page });
}

function onKey(ev) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const target = ev.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) return;
  if (ev.key === "ArrowLeft" || ev.key === "PageUp") {
    turn(-1);
    ev.preventDefault();
  } else if (ev.key === "ArrowRight" || ev.key === "PageDown") {
    turn(1);
    ev.preventDefault();
  }
}

function wire() {
  if (root.dataset.ended === "true") return;
  $("wall-prev").addEventListener("click", () => turn(-1));
  $("wall-next").addEventListener("click", () => turn(1));
  document.addEventListener("keydown", onKey);
  setInterval(() => send({ type: "ping" }), 15000);
  render();
  connect();
}

// for tests and support staff
window.lienThongWall = { state, pc: () => state.pc };

wire();
