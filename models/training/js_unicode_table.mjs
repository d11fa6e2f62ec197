// Dumps, for every code point, the Unicode facts the JS BERT tokenizer relies on as Node's ICU sees
// them (punctuation \p{P}, non-spacing marks \p{Mn}, controls Cc/Cf/Co/Cs, toLowerCase, NFD), as
// ranges / exceptions. bert_tokenizer.py loads this file so that Python (whose unicodedata may be an
// older Unicode version) classifies characters exactly as Node does.
//   node models/training/js_unicode_table.mjs > models/training/js_unicode.json
const P = /^\p{P}$/u, MN = /^\p{Mn}$/u, CTRL = /^(?:\p{Cc}|\p{Cf}|\p{Co}|\p{Cs})$/u;
const ranges = { punct: [], mn: [], control: [] };
const open = { punct: null, mn: null, control: null };
const lower = {}, nfd = {};
for (let cp = 0; cp <= 0x10ffff; cp++) {
  const c = String.fromCodePoint(cp);
  const is = { punct: P.test(c), mn: MN.test(c), control: CTRL.test(c) };
  for (const k of Object.keys(is)) {
    if (is[k] && open[k] === null) open[k] = cp;
    if (!is[k] && open[k] !== null) { ranges[k].push([open[k], cp - 1]); open[k] = null; }
  }
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const l = c.toLowerCase();
  if (l !== c) lower[cp] = l;
  const d = c.normalize('NFD');
  if (d !== c) nfd[cp] = d;
}
for (const k of Object.keys(open)) if (open[k] !== null) ranges[k].push([open[k], 0x10ffff]);
process.stdout.write(JSON.stringify({ unicode: process.versions.unicode, ...ranges, lower, nfd }));
