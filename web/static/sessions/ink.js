// Ink (free drawing) on a page of the reader, stored as a W3C Web Annotation whose target has an
// SvgSelector: one <path> per stroke in the page's own PDF units (viewBox = the page at scale 1),
// so a drawing made at one zoom or on one tablet lands in the same place on every other.
//
// The SVG is never put into the document: a shared drawing comes from another person, so only
// the path data is taken from it (and the server accepts nothing but that form), drawn with
// Path2D on a canvas.
const NS = "http://www.w3.org/2000/svg";
const SVG = /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 ([\d.]+) ([\d.]+)">(.*)<\/svg>$/s;
const PATH = /<path d="([ML\d. -]+)" fill="none" stroke="(#[0-9a-fA-F]{6})" stroke-width="([\d.]+)"\/>/g;
export const INK_COLOR = "#d32f2f";
const WIDTH = 2;

const round = (v) => Math.round(v * 10) / 10;

/** The SvgSelector value for strokes given as lists of [x, y] in page units. */
export function svgOf(strokes, width, height) {
  const paths = strokes.filter((s) => s.length > 1).map((s) =>
    `<path d="${s.map(([x, y], i) => `${i ? "L" : "M"}${round(x)} ${round(y)}`).join("")}" fill="none" stroke="${INK_COLOR}" stroke-width="${WIDTH}"/>`);
  return `<svg xmlns="${NS}" viewBox="0 0 ${round(width)} ${round(height)}">${paths.join("")}</svg>`;
}

/** [{d, color, width}] and the viewBox size, or null when the value is not our form. */
export function parseSvg(value) {
  const m = SVG.exec(value || "");
  if (!m) return null;
  const paths = [...m[3].matchAll(PATH)].map(([, d, color, w]) => ({ d, color, width: Number(w) }));
  return { width: Number(m[1]), height: Number(m[2]), paths };
}

/**
 * A drawing surface laid over the page canvas.  ``draw(values)`` paints the saved ink of the
 * page; strokes are collected (in page units) until taken.  Who draws: the pencil (pointerType
 * "pen") always; a finger or the mouse only while ``drawing`` is on, so that without it a finger
 * scrolls the page and the mouse selects text.  The events are taken on the page holder (the
 * parent), because the layer itself lets the pointer through while ``drawing`` is off.
 * ``onchange()`` is called when the unsaved strokes or the mode change.
 */
export class InkLayer {
  constructor(canvas, onchange = () => {}) {
    this.canvas = canvas;
    this.strokes = [];
    this.saved = [];
    this.page = { width: 1, height: 1 };
    this.drawing = false;
    this.onchange = onchange;
    const holder = canvas.parentElement || canvas;
    let current = null;
    let pointer = null;
    const at = (ev) => {
      const box = canvas.getBoundingClientRect();
      const clamp = (v, max) => Math.min(Math.max(v, 0), max);
      return [clamp((ev.clientX - box.left) / box.width * this.page.width, this.page.width), clamp((ev.clientY - box.top) / box.height * this.page.height, this.page.height)];
    };
    holder.addEventListener("pointerdown", (ev) => {
      if (!(this.drawing || ev.pointerType === "pen") || current) return;
      ev.preventDefault();
      pointer = ev.pointerId;
      try { holder.setPointerCapture(ev.pointerId); } catch (_e) { /* synthetic events have no capture */ }
      current = [at(ev)];
      this.strokes.push(current);
      this.pending();
    });
    holder.addEventListener("pointermove", (ev) => {
      if (!current || ev.pointerId !== pointer) return;
      ev.preventDefault();
      const [x, y] = at(ev);
      const [px, py] = current[current.length - 1];
      // drop points closer than a unit: a stroke stays small enough for the 16 kB limit
      if (Math.hypot(x - px, y - py) >= 1) { current.push([x, y]); this.paint(); }
    });
    const end = (ev) => {
      if (!current || ev.pointerId !== pointer) return;
      current = null;
      pointer = null;
      this.paint();
      this.pending();
    };
    holder.addEventListener("pointerup", end);
    holder.addEventListener("pointercancel", end);
  }

  /** How many strokes wait to be saved, on the layer (``data-pending``), and tell the page. */
  pending() {
    this.canvas.dataset.pending = String(this.strokes.filter((s) => s.length > 1).length);
    this.onchange();
  }

  setDrawing(on) {
    this.drawing = on;
    this.canvas.classList.toggle("drawing", on);
    this.canvas.parentElement?.classList.toggle("drawing", on);
    this.onchange();
  }

  /** Match the page canvas (CSS size, pixels) and the page's size in PDF units. */
  fit(pageCanvas, width, height) {
    this.canvas.width = pageCanvas.width;
    this.canvas.height = pageCanvas.height;
    this.canvas.style.width = pageCanvas.style.width;
    this.page = { width, height };
  }

  /** Paint the saved drawings of the page, given as SvgSelector values. */
  draw(values) {
    this.saved = values.map(parseSvg).filter(Boolean);
    this.canvas.dataset.strokes = String(this.saved.reduce((n, s) => n + s.paths.length, 0));
    this.paint();
  }

  paint() {
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const svg of this.saved) {
      ctx.setTransform(this.canvas.width / svg.width, 0, 0, this.canvas.height / svg.height, 0, 0);
      for (const p of svg.paths) {
        ctx.strokeStyle = p.color;
        ctx.lineWidth = p.width;
        ctx.stroke(new Path2D(p.d));
      }
    }
    ctx.setTransform(this.canvas.width / this.page.width, 0, 0, this.canvas.height / this.page.height, 0, 0);
    ctx.strokeStyle = INK_COLOR;
    ctx.lineWidth = WIDTH;
    for (const s of this.strokes) {
      ctx.beginPath();
      s.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
    }
  }

  /** The unsaved strokes as an SvgSelector value (null when none), and forget them. */
  take() {
    const strokes = this.strokes.filter((s) => s.length > 1);
    this.strokes = [];
    this.paint();
    this.pending();
    return strokes.length ? svgOf(strokes, this.page.width, this.page.height) : null;
  }

  clear() {
    this.strokes = [];
    this.paint();
    this.pending();
  }
}
