// Benchmark traffic: distinct texts of realistic, mixed lengths (5 to 200 words), drawn reproducibly
// from the SpamAssassin mails the models are trained on (models/scripts/dataset.mjs), or from generated
// sentences where that data package is not installed.
//
// A text is a window of consecutive words of one mail. Window lengths are uniform in [5, 200] words
// (a mail shorter than the window is taken whole). Every stream is seeded; within a stream no text
// repeats (checked), and streams with different `part` numbers draw disjoint windows (the start word
// of a window is fixed modulo PARTS by the part), so runs against one server never see a text twice.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');
export const CACHE = path.join(HERE, '.cache');

export const MIN_WORDS = 5;
export const MAX_WORDS = 200;
/** Disjoint window families: at most this many streams are distinct from one another. */
export const PARTS = 64;

/** Small, fast, seeded PRNG (mulberry32): uniform floats in [0, 1). */
export function prng(seed) {
  let a = hashSeed(seed);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashSeed(seed) {
  let h = 2166136261;
  for (const ch of String(seed)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

/**
 * The corpus as arrays of words, cached in .cache/corpus.json. Source 'spamassassin' when the data
 * package under models/scripts/node_modules is present, else 'generated'.
 * @returns {Promise<{source: string, docs: string[][]}>}
 */
export async function loadCorpus() {
  const file = path.join(CACHE, 'corpus.json');
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8'));
    return { source: cached.source, docs: cached.docs.map((d) => d.split(' ')) };
  }
  let source = 'spamassassin';
  let texts;
  try {
    const { loadMails } = await import(path.join(REPO, 'models/scripts/dataset.mjs'));
    texts = loadMails().map((m) => m.text);
  } catch (e) {
    source = 'generated';
    texts = generatedDocs(4000);
  }
  const docs = texts.map((t) => t.split(/\s+/).filter(Boolean).join(' ')).filter((d) => d.length > 0);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(file, JSON.stringify({ source, docs }));
  return { source, docs: docs.map((d) => d.split(' ')) };
}

const WORDS = `the a of to and in is it you that for on with as this be at your are from or have an by not
we all can will our more if one about free money now click here offer email list new time get up out
only just like people mail please information business which their there would so what no any do me
has been my was when they some other make could these its also than use may who help work message
report order year company home site day us send want need web call best today special limited price
save credit account receive first software system number week subscribe remove service data free
government meeting project team update thanks regards attached file version problem question looks
think know really good great sure right still well back going last down way because before after
sale cash bonus winner guaranteed instant access exclusive deal discount investment mortgage rate`.split(/\s+/);

/** Sentences of common and spammy words, for machines without the SpamAssassin package. */
function generatedDocs(n) {
  const rnd = prng('generated-corpus');
  const docs = [];
  for (let d = 0; d < n; d++) {
    const words = [];
    const length = 5 + Math.floor(rnd() * 400);
    while (words.length < length) {
      const sentence = 4 + Math.floor(rnd() * 14);
      for (let i = 0; i < sentence; i++) words.push(WORDS[Math.floor(rnd() * WORDS.length)]);
      words[words.length - 1] += rnd() < 0.8 ? '.' : '!';
    }
    docs.push(words.join(' '));
  }
  return docs;
}

/**
 * An endless stream of distinct texts. `part` in [0, PARTS) picks a window family disjoint from
 * the other parts'.
 */
export class TextStream {
  constructor(docs, seed, part = 0) {
    this.docs = docs;
    this.rnd = prng(`${seed}/${part}`);
    this.part = ((part % PARTS) + PARTS) % PARTS;
    this.seen = new Set();
    this.count = 0;
  }

  next() {
    for (let tries = 0; tries < 1000; tries++) {
      const m = Math.floor(this.rnd() * this.docs.length);
      const doc = this.docs[m];
      const want = MIN_WORDS + Math.floor(this.rnd() * (MAX_WORDS - MIN_WORDS + 1));
      const length = Math.min(want, doc.length);
      const maxStart = doc.length - length;
      // Starts s with (m + s) % PARTS === part belong to this stream's family.
      const first = (((this.part - m) % PARTS) + PARTS) % PARTS;
      if (first > maxStart) continue;
      const start = first + PARTS * Math.floor(this.rnd() * (Math.floor((maxStart - first) / PARTS) + 1));
      const key = `${m}:${start}:${length}`;
      if (this.seen.has(key)) continue;
      const text = doc.slice(start, start + length).join(' ');
      if (this.seen.has(text)) continue;
      this.seen.add(key);
      this.seen.add(text);
      this.count++;
      return text;
    }
    throw new Error('text stream exhausted (no new distinct window in 1000 draws)');
  }
}
