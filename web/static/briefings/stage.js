// Video briefings: the stage, our own picture and the tiles of the receiving slots.

import { $, root, state, t } from "./roomstate.js";

export function showSelf() {
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

export function makeTile(mid, kind) {
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

export function attachTrack(mid, track) {
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

export function renderStage() {
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
    showMismatch(slot);
    if (slot.kind === "video" && p && p.chair) chairMid = mid;
    let big = false;
    if (layout === "hall") big = slot.kind === "video" && (p ? p.chair || p.id === state.spotlight : false);
    if (layout === "speaker") big = slot.kind === "video" && Boolean(p) && p.id === (state.spotlight || state.speaker);
    slot.el.classList.toggle("big", big);
  }
  root.dataset.chairMid = chairMid || "";
}

// A slot whose source sends a codec this device did not offer (an H.264-only room system to a
// VP8-only browser) gets no packets: say so in the tile instead of leaving it black.
function showMismatch(slot) {
  const mismatch = Boolean(slot.mismatch && slot.source && slot.kind === "video");
  slot.el.classList.toggle("mismatch", mismatch);
  slot.el.dataset.codecMismatch = String(mismatch);
  let notice = slot.el.querySelector(".notice");
  if (!mismatch) {
    notice?.remove();
    return;
  }
  if (!notice) {
    notice = document.createElement("p");
    notice.className = "notice";
    notice.setAttribute("role", "status");
    notice.dataset.testid = "codec-mismatch";
    slot.el.append(notice);
  }
  notice.textContent = t("room.codec_mismatch", { codec: slot.codec || "" });
}

/** Whether a participant's camera sends a codec this device cannot take (roster flag). */
export function cannotShow(p) {
  if (!p.video_codec) return false;
  for (const slot of state.slots.values()) {
    if (slot.source === p.id && slot.kind === "video") return Boolean(slot.mismatch);
  }
  const mime = { "H.264": "video/h264", VP8: "video/vp8" }[p.video_codec];
  const caps = globalThis.RTCRtpReceiver?.getCapabilities?.("video");
  if (!mime || !caps) return false;
  return !caps.codecs.some((c) => c.mimeType.toLowerCase() === mime);
}
