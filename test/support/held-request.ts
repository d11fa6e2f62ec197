// Raw HTTP helpers for shutdown tests: a request the test holds in flight for as long as it likes,
// and an idle keep-alive connection, both observed from the client side.
import http from 'node:http';
import net from 'node:net';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Reads a whole response as text. */
function readAnswer(res: http.IncomingMessage): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    res.on('error', reject);
  });
}

export interface HeldRequest {
  /** Resolves once the server has accepted the request (its handler runs): it is in flight. */
  accepted: Promise<void>;
  /** Sends the rest of the body; resolves with the answer. */
  finish(): Promise<HttpAnswer>;
  /** Rejects when the connection is lost before an answer. */
  answer: Promise<HttpAnswer>;
}

/**
 * POSTs `body` to `url` in two halves. `Expect: 100-continue` makes Node's server answer
 * `100 Continue` in the same tick as it hands the request to the gateway's handler, so "accepted" is
 * an observed fact, not a guess about timing.
 */
export function holdRequest(url: string, body: string): HeldRequest {
  const target = new URL(url);
  const bytes = Buffer.from(body);
  const half = Math.floor(bytes.length / 2);
  const req = http.request({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': bytes.length, expect: '100-continue' },
  });
  const accepted = new Promise<void>((resolve) =>
    req.once('continue', () => {
      req.write(bytes.subarray(0, half));
      resolve();
    }),
  );
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => void readAnswer(res).then(resolve, reject));
  });
  answer.catch(() => undefined);
  req.flushHeaders();
  return {
    accepted,
    answer,
    finish() {
      req.end(bytes.subarray(half));
      return answer;
    },
  };
}

export interface IdleConnection {
  /** Resolves when the server closes the connection. */
  closedByServer: Promise<void>;
  destroy(): void;
}

/** A keep-alive connection that made one request (GET `path`) and now sits idle. */
export async function idleConnection(base: string, path = '/healthz'): Promise<IdleConnection> {
  const target = new URL(base);
  const socket = net.connect({ host: target.hostname, port: Number(target.port) });
  const closedByServer = new Promise<void>((resolve) => {
    socket.once('end', resolve);
    socket.once('close', () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n\r\n`));
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString();
      // One small JSON answer with content-length: it is complete once the body has arrived.
      const m = /content-length: (\d+)/i.exec(head);
      const end = head.indexOf('\r\n\r\n');
      if (m && end >= 0 && head.length - end - 4 >= Number(m[1])) {
        socket.off('data', onData);
        if (!head.startsWith('HTTP/1.1 200')) reject(new Error(`unexpected answer: ${head.slice(0, 60)}`));
        else resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.on('error', () => undefined);
  return { closedByServer, destroy: () => socket.destroy() };
}

/** One POST on a fresh connection (no keep-alive pool), with every response header visible. */
export function postOnce(url: string, body: string): Promise<HttpAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => void readAnswer(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end(body);
  });
}
