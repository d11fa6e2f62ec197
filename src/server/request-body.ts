// Reads a request body with a size limit, as bytes are streamed in: an oversized body is refused as
// soon as it crosses the limit (or at once, from its Content-Length), never buffered whole.
import type { IncomingMessage } from 'node:http';

export class BodyError extends Error {
  override name = 'BodyError';
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new BodyError(413, `request body exceeds ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume(); // discard the rest; the answer goes out with Connection: close
        reject(new BodyError(413, `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** The body as JSON, or a 400 BodyError when it is not valid JSON (an empty body is undefined). */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BodyError(400, 'request body is not valid JSON');
  }
}
