// The tablet reader: PDF.js by HTTP ranges (no streaming, no auto-fetch: page 1 after a few
// hundred kB), thumbnails on demand, search through the server's page texts, zoom, page jump,
// notes, highlights and ink stored as W3C Web Annotations and synced across the member's devices.
import * as pdfjsLib from "/static/vendor/pdfjs/pdf.min.mjs";
import { api, el, Realtime, registerOffline, t, LOCALE } from "./common.js";
import { formatDateTime, formatPercent } from "../format.js";
import { InkLayer } from "./ink.js";
import { findFolded } from "../fold.js";

pdfjsLib.GlobalWorkerOptions.workerSrc = "/static/vendor/pdfjs/pdf.worker.min.mjs";

const root = document.getElementById("reader");
const sid = Number(root.dataset.sid);
const pid = Number(root.dataset.pid);
const pages = Number(root.dataset.pages);
const base = `/api/v1/sessions/${sid}/papers/${pid}`;
const canvas = document.getElementById("page-canvas");
const status = document.getElementById("status");
let doc = null;
let pageNo = 1;
let zoom = 1;
let rendering = null;
const notes = new Map();
const ink = new InkLayer(document.getElementById("ink-layer"), () => inkTools());

const task = pdfjsLib.getDocument({
  url: `${base}/file?v=${root.dataset.version}`,
  disableStream: true,
  disableAutoFetch: true,
  rangeChunkSize: 65536,
  isEvalSupported: false,
  disableFontFace: true,
  standardFontDataUrl: "/static/vendor/pdfjs/standard_fonts/",
  wasmUrl: "/static/vendor/pdfjs/wasm/",
});

async function show(n) {
  pageNo = Math.min(Math.max(1, n), pages);
  document.getElementById("page-input").value = pageNo;
  if (!doc) return;
  const page = await doc.getPage(pageNo);
  const fit = (document.getElementById("page-wrap").clientWidth || 600) / page.getViewport({ scale: 1 }).width;
  // cap the canvas near 5 megapixels: mobile browsers refuse bigger ones
  let scale = fit * zoom * (window.devicePixelRatio || 1);
  const vp1 = page.getViewport({ scale: 1 });
  scale = Math.min(scale, Math.sqrt(5e6 / (vp1.width * vp1.height)));
  const viewport = page.getViewport({ scale });
  if (rendering) rendering.cancel();
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  const cssScale = scale / (window.devicePixelRatio || 1);
  canvas.style.width = `${Math.floor(viewport.width / (window.devicePixelRatio || 1))}px`;
  rendering = page.render({ canvasContext: canvas.getContext("2d"), viewport });
  try {
    await rendering.promise;
    status.textContent = t("reader.page_of", { page: pageNo, pages });
    canvas.dataset.rendered = String(pageNo);
  } catch (e) {
    if (e?.name !== "RenderingCancelledException") status.textContent = t("reader.render_error", { error: e.message });
    return;
  }
  ink.clear();
  ink.fit(canvas, vp1.width, vp1.height);
  await drawTextLayer(page, cssScale);
  renderNotes();
}

// The text layer (transparent, selectable) lets a member select a passage to highlight; the
// highlight is stored as a TextQuoteSelector and found again by its text on this page.
const textLayerDiv = document.getElementById("text-layer");
let pageText = "";
let lastQuote = ""; // kept: tapping the save button may clear the selection first
document.addEventListener("selectionchange", () => {
  const picked = window.getSelection();
  const text = picked ? picked.toString().trim() : "";
  if (text && textLayerDiv.contains(picked.anchorNode)) lastQuote = text;
});
async function drawTextLayer(page, cssScale) {
  const holder = document.getElementById("page");
  holder.style.setProperty("--total-scale-factor", String(cssScale));
  holder.style.setProperty("--scale-factor", String(cssScale));
  textLayerDiv.replaceChildren();
  lastQuote = "";
  const content = await page.getTextContent();
  pageText = content.items.map((i) => i.str).join(" ");
  const layer = new pdfjsLib.TextLayer({ textContentSource: content, container: textLayerDiv, viewport: page.getViewport({ scale: cssScale }) });
  await layer.render();
  textLayerDiv.dataset.page = String(pageNo);
  markHighlights();
}

function markHighlights() {
  const quotes = [...notes.values()].filter((a) => a["lt:page"] === pageNo && a.motivation === "highlighting")
    .map((a) => selectorOf(a, "TextQuoteSelector")?.exact).filter(Boolean);
  for (const span of textLayerDiv.querySelectorAll("span")) {
    const t = span.textContent.trim();
    span.classList.toggle("lt-hl", t.length > 0 && quotes.some((q) => q.includes(t) || t.includes(q)));
  }
}

function selectorOf(a, type) {
  const sel = a.target?.selector;
  return (Array.isArray(sel) ? sel : [sel]).find((s) => s && s.type === type);
}

function watermark() {
  const w = document.getElementById("watermark");
  if (!w) return;
  const line = `${root.dataset.readerName} · ${root.dataset.readerAgency} · ${formatDateTime(new Date())}`;
  w.replaceChildren(...Array.from({ length: 8 }, () => el("span", {}, line)));
}

document.getElementById("prev").addEventListener("click", () => show(pageNo - 1));
document.getElementById("next").addEventListener("click", () => show(pageNo + 1));
document.getElementById("page-input").addEventListener("change", (ev) => show(Number(ev.target.value)));
document.getElementById("zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
document.getElementById("zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
function setZoom(z) {
  zoom = Math.min(4, Math.max(0.5, z));
  document.getElementById("zoom-level").textContent = formatPercent(Math.round(zoom * 100), 0);
  show(pageNo);
}

// Thumbnails: rendered only when scrolled into view, so opening the strip does not fetch the file.
const thumbs = document.getElementById("thumbs");
let observer = null;
document.getElementById("thumbs-toggle").addEventListener("click", () => {
  thumbs.hidden = !thumbs.hidden;
  if (thumbs.hidden || thumbs.childElementCount) return;
  observer = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) { observer.unobserve(e.target); drawThumb(e.target); }
  }, { root: thumbs });
  for (let n = 1; n <= pages; n++) {
    const li = el("li", { dataset: { page: n }, onclick: () => show(n) }, el("canvas", {}), el("span", {}, String(n)));
    thumbs.append(li);
    observer.observe(li);
  }
});
async function drawThumb(li) {
  if (!doc) return;
  const page = await doc.getPage(Number(li.dataset.page));
  const viewport = page.getViewport({ scale: 110 / page.getViewport({ scale: 1 }).width });
  const c = li.querySelector("canvas");
  c.width = viewport.width;
  c.height = viewport.height;
  await page.render({ canvasContext: c.getContext("2d"), viewport }).promise;
}

document.getElementById("search").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const q = document.getElementById("search-q").value.trim();
  const list = document.getElementById("search-hits");
  if (q.length < 2) return;
  const hits = await api("GET", `${base}/search?q=${encodeURIComponent(q)}`);
  list.replaceChildren(...(hits.length ? hits.map((h) => el("li", {}, el("button", { type: "button", class: "link", onclick: () => show(h.page) }, t("notes.page", { page: h.page })), " … ", ...marked(h.snippet, q), " …")) : [el("li", {}, t("search.none"))]));
});

// The snippet with the words that matched (by the search fold: "ngân sách" marks "ngan sach").
function marked(snippet, q) {
  const hit = findFolded(snippet, q);
  if (!hit) return [snippet];
  return [snippet.slice(0, hit[0]), el("mark", {}, snippet.slice(hit[0], hit[1])), snippet.slice(hit[1])];
}

// Notes (W3C Web Annotation): private unless shared; the member's other devices get them live.
function renderNotes() {
  markHighlights();
  ink.draw([...notes.values()].filter((a) => a["lt:page"] === pageNo).map((a) => selectorOf(a, "SvgSelector")?.value).filter(Boolean));
  const list = document.getElementById("notes");
  const sorted = [...notes.values()].sort((a, b) => a["lt:page"] - b["lt:page"]);
  list.replaceChildren(...sorted.map((a) => el("li", { class: a["lt:page"] === pageNo ? "here" : "", "data-testid": "note" },
    el("button", { type: "button", class: "link", onclick: () => show(a["lt:page"]) }, t("notes.page", { page: a["lt:page"] })),
    selectorOf(a, "SvgSelector") ? el("span", { class: "badge ink", "data-testid": "note-ink" }, t("notes.ink"))
      : a.motivation === "highlighting" ? el("span", { class: "badge" }, t("notes.highlighted")) : null,
    selectorOf(a, "TextQuoteSelector") ? el("q", {}, selectorOf(a, "TextQuoteSelector").exact) : null,
    " ", a.body?.value || "",
    a["lt:owner"] !== Number(root.dataset.user) ? el("em", {}, ` — ${a.creator?.name || ""}`) : null,
    a["lt:pending"] ? el("span", { class: "badge", "data-testid": "note-pending" }, t("notes.pending")) : null,
    a["lt:owner"] === Number(root.dataset.user) && !a["lt:pending"] ? el("button", { type: "button", class: "small", onclick: () => removeNote(a) }, t("notes.delete")) : null)));
}

async function loadNotes() {
  let list = [];
  try { list = await api("GET", `${base}/annotations`); } catch (_e) { /* offline, nothing cached */ }
  notes.clear();
  for (const a of list) notes.set(a.id, a);
  for (const a of pending()) notes.set(a.id, { ...a, "lt:owner": Number(root.dataset.user), "lt:pending": true });
  renderNotes();
}

async function removeNote(a) {
  await api("DELETE", `${base}/annotations/${a.id.replace("urn:uuid:", "")}`);
  notes.delete(a.id);
  renderNotes();
}

document.getElementById("note-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = document.getElementById("note-text").value.trim();
  const highlight = document.getElementById("note-highlight").checked;
  if (!text && !highlight) return;
  await saveAnnotation(text, highlight, null);
  ev.target.reset();
  lastQuote = "";
  renderNotes();
});

async function saveAnnotation(text, highlight, svg) {
  const exact = highlight ? lastQuote : "";
  const selectors = [{ type: "FragmentSelector", conformsTo: "http://tools.ietf.org/rfc/rfc3778", value: `page=${pageNo}` }];
  if (svg) selectors.push({ type: "SvgSelector", value: svg });
  if (exact) {
    const at = pageText.indexOf(exact);
    selectors.push({ type: "TextQuoteSelector", exact, prefix: at > 0 ? pageText.slice(Math.max(0, at - 32), at) : "", suffix: at >= 0 ? pageText.slice(at + exact.length, at + exact.length + 32) : "" });
  }
  const audience = document.getElementById("note-share").value.split(",").map((s) => s.trim()).filter(Boolean);
  const annotation = {
    "@context": "http://www.w3.org/ns/anno.jsonld",
    type: "Annotation",
    motivation: highlight || (svg && !text) ? "highlighting" : "commenting",
    body: { type: "TextualBody", value: text, format: "text/plain", language: document.documentElement.lang || "vi" },
    target: { source: `${location.origin}${base}/file`, selector: selectors.length === 1 ? selectors[0] : selectors },
    "lt:page": pageNo,
    "lt:audience": audience,
  };
  try {
    const saved = await api("POST", `${base}/annotations`, annotation);
    notes.set(saved.id, saved);
  } catch (e) {
    if (e.status !== undefined) { status.textContent = e.message; return; }
    // no network: keep it on the tablet and send it when the connection is back
    queue(annotation);
  }
}

// Ink: draw with a finger or pen while "Draw" is on; "Save the drawing" stores the strokes of
// this page as one annotation (with the note text, if any, as its body).
const inkToggle = document.getElementById("ink-toggle");
inkToggle.addEventListener("click", () => {
  ink.setDrawing(!ink.drawing);
  inkToggle.textContent = ink.drawing ? t("ink.stop") : t("ink.draw");
  inkToggle.setAttribute("aria-pressed", String(ink.drawing));
});
document.getElementById("ink-clear").addEventListener("click", () => ink.clear());
document.getElementById("ink-save").addEventListener("click", async () => {
  const svg = ink.take();
  if (!svg) return;
  const text = document.getElementById("note-text");
  await saveAnnotation(text.value.trim(), false, svg);
  text.value = "";
  renderNotes();
});

const PENDING = `lt-pending-notes-${pid}`;
function pending() {
  try { return JSON.parse(localStorage.getItem(PENDING) || "[]"); } catch (_e) { return []; }
}
function queue(annotation) {
  const list = pending();
  annotation.id = `pending:${Date.now()}:${Math.random()}`;
  list.push(annotation);
  localStorage.setItem(PENDING, JSON.stringify(list));
  notes.set(annotation.id, { ...annotation, "lt:owner": Number(root.dataset.user), "lt:pending": true });
}
async function flushPending() {
  const list = pending();
  if (!list.length) return;
  const left = [];
  for (const a of list) {
    const { id, ...body } = a;
    try {
      const saved = await api("POST", `${base}/annotations`, body);
      notes.delete(id);
      notes.set(saved.id, saved);
    } catch (_e) {
      left.push(a);
    }
  }
  localStorage.setItem(PENDING, JSON.stringify(left));
  renderNotes();
}
window.addEventListener("online", flushPending);

new Realtime([`user:${root.dataset.user}`], (ev) => {
  if (ev.data.paper_id !== pid) return;
  if (ev.type === "annotation.saved") notes.set(ev.data.annotation.id, ev.data.annotation);
  if (ev.type === "annotation.deleted") notes.delete(ev.data.id);
  renderNotes();
}, { onResync: loadNotes, onStatus: (up) => { if (up) flushPending().then(loadNotes); } });
registerOffline();

watermark();
setInterval(watermark, 60000);
const startPage = Number(new URLSearchParams(location.search).get("page")) || 1;
task.promise.then((d) => { doc = d; show(startPage); }, (e) => { status.textContent = t("reader.cannot_open", { error: e.message }); });
loadNotes();
notesDrawer();

// The save/clear buttons of the ink show while drawing or while strokes wait to be saved (the
// pencil draws without the mode): the toolbar stays one row.
function inkTools() {
  const waiting = Number(document.getElementById("ink-layer").dataset.pending || 0) > 0;
  root.classList.toggle("inking", ink.drawing || waiting);
}

// On a phone the notes are a drawer over the page: the toolbar's "Notes" opens it, ✕ or Escape
// closes it.  On a tablet they sit beside the page and both buttons are hidden.
function notesDrawer() {
  const panel = document.getElementById("notes-panel");
  const toggle = document.getElementById("notes-toggle");
  const set = (open) => {
    panel.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
    if (open) document.getElementById("note-text").focus({ preventScroll: true });
  };
  toggle.addEventListener("click", () => set(!panel.classList.contains("open")));
  document.getElementById("notes-close").addEventListener("click", () => { set(false); toggle.focus(); });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && panel.classList.contains("open")) set(false); });
  const count = document.getElementById("notes-count");
  new MutationObserver(() => { count.textContent = String(document.getElementById("notes").childElementCount || ""); })
    .observe(document.getElementById("notes"), { childList: true });
}
