// The hostile corpus (test/fixtures/hostile/corpus.json): loads it, builds each request's bytes from
// its compact description, and sends it the way it says (HTTP, raw bytes on a socket, chunked, or a
// client that leaves half-way), returning what came back.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { REPO } from './gateway-process.js';

type Fill = { repeat: string; times: number } | { seq: string; times: number } | { words: number } | { list: string; times: number };

export interface CorpusRequest {
  name: string;
  kind?: 'raw' | 'chunked' | 'abort-mid-body' | 'abort-after-send';
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  params?: Record<string, string | string[]>;
  body?: { json: unknown } | { raw: string } | { base64: string };
  raw?: string;
  fill?: Record<string, Fill>;
  expect: { status: number | null; code?: string | null; limit?: string };
  expectHeaders?: Record<string, string | null | { match: string }>;
  maxMs?: number;
}

export interface Outcome {
  /** null: no answer (the client left, as intended). */
  status: number | null;
  codes: string[];
  limit?: unknown;
  headers: http.IncomingHttpHeaders;
  ms: number;
}

export const DEFAULT_MAX_MS = 3_000;

export function loadCorpus(): CorpusRequest[] {
  const file = path.join(REPO, 'test/fixtures/hostile/corpus.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { requests: CorpusRequest[] }).requests;
}

const WORDS = ['free', 'money', 'meeting', 'tomorrow', 'kernel', 'patch', 'prize', 'click', 'agenda', 'review', 'offer', 'thanks'];

/** `n` characters of words, the same every time. */
function words(n: number): string {
  const out: string[] = [];
  let length = 0;
  for (let i = 0; length < n; i++) {
    const w = WORDS[(i * 7 + (i >> 3)) % WORDS.length]!;
    out.push(w);
    length += w.length + 1;
  }
  return out.join(' ').slice(0, n);
}

function expand(spec: Fill, fills: Record<string, string>): string | string[] {
  if ('repeat' in spec) return spec.repeat.repeat(spec.times);
  if ('words' in spec) return words(spec.words);
  const item = (template: string, i: number) => substitute(template.replaceAll('{i1}', String(i + 1)).replaceAll('{i}', String(i)), fills);
  if ('seq' in spec) return Array.from({ length: spec.times }, (_, i) => item(spec.seq, i)).join('');
  return Array.from({ length: spec.times }, (_, i) => item(spec.list, i));
}

function substitute(text: string, fills: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => fills[name] ?? whole);
}

/** The request's placeholders, text fills first (lists may use them). */
function fillsOf(r: CorpusRequest): { text: Record<string, string>; lists: Record<string, string[]> } {
  const text: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const specs = Object.entries(r.fill ?? {});
  for (const [name, spec] of specs) if (!('list' in spec)) text[name] = expand(spec, text) as string;
  for (const [name, spec] of specs) if ('list' in spec) lists[name] = expand(spec, text) as string[];
  return { text, lists };
}

function fillJson(value: unknown, fills: ReturnType<typeof fillsOf>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole && fills.lists[whole[1]!]) return fills.lists[whole[1]!];
    return substitute(value, fills.text);
  }
  if (Array.isArray(value)) return value.map((v) => fillJson(v, fills));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillJson(v, fills)]));
  return value;
}

export interface BuiltRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A comment that makes a document new to every cache (for sending a request again, not from a cache). */
const variantOf = (query: unknown, variant: number) => (variant > 0 && typeof query === 'string' ? `# variant ${variant}\n${query}` : query);

/** The request's bytes; `variant` > 0 prefixes its document with a comment. */
export function build(r: CorpusRequest, variant = 0): BuiltRequest {
  const fills = fillsOf(r);
  let body: Buffer | undefined;
  if (r.body && 'json' in r.body) {
    const json = fillJson(r.body.json, fills) as Record<string, unknown>;
    if (json && typeof json === 'object' && 'query' in json) json['query'] = variantOf(json['query'], variant);
    body = Buffer.from(JSON.stringify(json));
  }
  else if (r.body && 'raw' in r.body) body = Buffer.from(substitute(r.body.raw, fills.text));
  else if (r.body && 'base64' in r.body) body = Buffer.from(r.body.base64, 'base64');
  let target = r.path ?? '/graphql';
  if (r.params) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(r.params)) {
      for (const v of [value].flat()) params.append(name, name === 'query' ? (variantOf(substitute(v, fills.text), variant) as string) : substitute(v, fills.text));
    }
    target += `?${params}`;
  }
  const headers = Object.fromEntries(Object.entries(r.headers ?? { 'content-type': 'application/json' }).map(([k, v]) => [k, substitute(v, fills.text)]));
  return { method: r.method ?? 'POST', path: target, headers, body };
}

function outcomeOf(status: number | null, headers: http.IncomingHttpHeaders, text: string, started: number): Outcome {
  let codes: string[] = [];
  let limit: unknown;
  try {
    const errors = (JSON.parse(text) as { errors?: { extensions?: { code?: string; limit?: unknown } }[] }).errors ?? [];
    codes = errors.map((e) => e.extensions?.code ?? '(none)');
    limit = errors[0]?.extensions?.limit;
  } catch {
    /* not JSON (e.g. Node's own 400 for a malformed request): status only */
  }
  return { status, codes, limit, headers, ms: performance.now() - started };
}

/** The status, headers and body of the first response in `raw` (HTTP/1.1 with Content-Length), if complete. */
function parseResponse(raw: Buffer, head = false): { status: number; headers: http.IncomingHttpHeaders; body: string } | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1];
  if (!status) return undefined;
  const headers: http.IncomingHttpHeaders = {};
  for (const line of lines) {
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  const length = head ? 0 : Number(headers['content-length'] ?? 0);
  const body = raw.subarray(headEnd + 4);
  if (body.length < length) return undefined;
  return { status: Number(status), headers, body: body.subarray(0, length).toString('utf8') };
}

/**
 * Sends `head` and `body` on a fresh socket and reads the answer. A plain socket, not an HTTP client,
 * so that an answer the gateway sends before the body is complete (413, a refused shape) is read even
 * when the gateway then closes the connection under our write. `leave` closes the socket at the given
 * point instead of waiting (a client that goes away).
 */
function exchange(port: number, head: string, body: Buffer | undefined, timeoutMs: number, leave?: 'mid-body' | 'after-send', chunked = false): Promise<Outcome> {
  const isHead = head.startsWith('HEAD ');
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const response = parseResponse(Buffer.concat(chunks), isHead);
      resolve(outcomeOf(response?.status ?? null, response?.headers ?? {}, response?.body ?? '', started));
    };
    const timer = setTimeout(settle, timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (parseResponse(Buffer.concat(chunks), isHead)) settle();
    });
    socket.on('error', () => setTimeout(settle, 100)); // e.g. EPIPE after the gateway answered and closed
    socket.on('close', settle);
    socket.write(head);
    if (!body) return;
    if (leave === 'mid-body') {
      socket.write(body.subarray(0, body.length >> 1), () => setTimeout(settle, 50));
      return;
    }
    if (chunked) {
      for (let at = 0; at < body.length; at += 64 * 1024) {
        const part = body.subarray(at, at + 64 * 1024);
        socket.write(`${part.length.toString(16)}\r\n`);
        socket.write(part);
        socket.write('\r\n');
      }
      socket.write('0\r\n\r\n');
    } else socket.write(body);
    if (leave === 'after-send') socket.write('', () => setTimeout(settle, 30));
  });
}

export function send(port: number, r: CorpusRequest, timeoutMs: number, variant = 0): Promise<Outcome> {
  if (r.kind === 'raw') return exchange(port, substitute(r.raw!, fillsOf(r).text), undefined, timeoutMs);
  const req = build(r, variant);
  const headers: Record<string, string | number> = { host: `127.0.0.1:${port}`, connection: 'close', ...req.headers };
  if (req.body) {
    if (r.kind === 'chunked') headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = req.body.length;
  }
  const head = `${req.method} ${req.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const leave = r.kind === 'abort-mid-body' ? 'mid-body' : r.kind === 'abort-after-send' ? 'after-send' : undefined;
  return exchange(port, head, req.body, timeoutMs, leave, r.kind === 'chunked');
}

/** What is wrong with an outcome, or undefined when it is what the corpus expects. */
export function mismatch(r: CorpusRequest, o: Outcome): string | undefined {
  const problems: string[] = [];
  if (o.status !== r.expect.status) problems.push(`status ${o.status}, expected ${r.expect.status}`);
  if (r.expect.code === null && o.codes.length > 0) problems.push(`errors ${o.codes.join(',')}, expected none`);
  if (r.expect.code && o.codes[0] !== r.expect.code) problems.push(`code ${o.codes.join(',') || '(none)'}, expected ${r.expect.code}`);
  if (r.expect.limit && o.limit !== r.expect.limit) problems.push(`limit ${String(o.limit)}, expected ${r.expect.limit}`);
  for (const [name, want] of Object.entries(r.expectHeaders ?? {})) {
    const got = o.headers[name];
    const ok = want === null ? got === undefined : typeof want === 'string' ? got === want : new RegExp(want.match).test(String(got));
    if (!ok) problems.push(`header ${name}: ${String(got)}`);
  }
  const maxMs = r.maxMs ?? DEFAULT_MAX_MS;
  if (o.ms > maxMs) problems.push(`took ${Math.round(o.ms)} ms, bound ${maxMs}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}
