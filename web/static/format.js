// One way to write times and numbers on every page (the scripts' side of server/textfmt.py):
// times in Vietnam's time (UTC+7, no daylight saving) as dd/MM/yyyy HH:mm in both languages;
// numbers vi-VN ("1.234", "66,67 %") on Vietnamese pages and the English way ("1,234",
// "66.67 %") on English ones. The page's language is <html lang>.

const VN_OFFSET_MS = 7 * 3600 * 1000;

export function lang() {
  return document.documentElement.lang === "en" ? "en" : "vi";
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function toDate(value) {
  if (value == null || value === "") return null;
  if (value instanceof Date) return value;
  if (typeof value === "number") return new Date(value);
  // a bare date ("2026-12-07") is a day, not a UTC midnight
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T00:00:00+07:00`);
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function vnParts(value) {
  const d = toDate(value);
  if (!d) return null;
  const v = new Date(d.getTime() + VN_OFFSET_MS);
  return {
    day: pad(v.getUTCDate()),
    month: pad(v.getUTCMonth() + 1),
    year: v.getUTCFullYear(),
    hour: pad(v.getUTCHours()),
    minute: pad(v.getUTCMinutes()),
    second: pad(v.getUTCSeconds()),
  };
}

/** "07/12/2026 09:30" in Vietnam's time; "" for nothing. */
export function formatDateTime(value, { seconds = false } = {}) {
  const p = vnParts(value);
  if (!p) return "";
  const time = `${p.hour}:${p.minute}${seconds ? `:${p.second}` : ""}`;
  return `${p.day}/${p.month}/${p.year} ${time}`;
}

/** "07/12/2026": the day in Vietnam. */
export function formatDate(value) {
  const p = vnParts(value);
  return p ? `${p.day}/${p.month}/${p.year}` : "";
}

/** "HH:mm" in Vietnam's time. */
export function formatTime(value) {
  const p = vnParts(value);
  return p ? `${p.hour}:${p.minute}` : "";
}

/** "1.234" / "66,67" (vi) or "1,234" / "66.67" (en). */
export function formatNumber(value, decimals = 0) {
  const fixed = Math.abs(Number(value)).toFixed(decimals);
  const [whole, frac] = fixed.split(".");
  const vi = lang() === "vi";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, vi ? "." : ",");
  const sign = Number(value) < 0 && Number(fixed) !== 0 ? "-" : "";
  return sign + grouped + (frac ? (vi ? "," : ".") + frac : "");
}

/** A value already in percent: "66,67 %" (vi) or "66.67 %" (en). */
export function formatPercent(value, decimals = 2) {
  return `${formatNumber(value, decimals)} %`;
}

/** part of whole in percent: formatShare(2, 3) → "66,67 %". */
export function formatShare(part, whole, decimals = 2) {
  return formatPercent(whole ? (part * 100) / whole : 0, decimals);
}
