// The search fold of server/search.py in the browser (the one rule, see docs/architecture.md):
// case folded, decomposed (NFD), every nonspacing mark dropped, đ → d, white space collapsed
// and trimmed. "Ngân sách" → "ngan sach"; "thủy" and "thuỷ" → "thuy"; NFC or NFD input alike.

const MARK = /\p{Mn}/u;

// Case folding by upper then lower case: close to Python's str.casefold ("ß" → "ss").
function foldChar(ch) {
  return ch.toUpperCase().toLowerCase().normalize("NFD").split("").filter((c) => !MARK.test(c)).join("").replaceAll("\u0111", "d");
}

// The fold of `text` and, for each of its characters, the index in `text` it comes from.
export function foldWithMap(text) {
  let out = "";
  const where = [];
  let space = true; // leading white space is dropped
  let i = 0;
  for (const ch of text) {
    if (/\s/u.test(ch)) {
      if (!space) { out += " "; where.push(i); }
      space = true;
    } else {
      for (const piece of foldChar(ch)) { out += piece; where.push(i); space = false; }
    }
    i += ch.length;
  }
  if (out.endsWith(" ")) { out = out.slice(0, -1); where.pop(); }
  return { folded: out, where };
}

export function fold(text) {
  return foldWithMap(text).folded;
}

// [start, end) of the first match of `query` in `text` by the fold (indices of `text`, so the
// words are shown as written), or null.
export function findFolded(text, query) {
  const needle = fold(query);
  if (!needle) return null;
  const { folded, where } = foldWithMap(text);
  const at = folded.indexOf(needle);
  if (at < 0) return null;
  let end = where[at + needle.length - 1] + 1;
  while (end < text.length && MARK.test(text[end])) end += 1;
  return [where[at], end];
}
