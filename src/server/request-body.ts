// Reads a request body with a size limit, as bytes are streamed in: an oversized body is refused as
// soon as it crosses the limit (or at once, from its Content-Length), never buffered whole. JSON
// bodies are decoded chunk by chunk (spreading UTF-8 decoding over the arrival of the bytes) and
// their shape checked before anything parses them (json-shape.ts).
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { JsonShapeScanner, shapeMessage, type JsonShapeLimits } from './json-shape.js';

export class BodyError extends Error {
  override name = 'BodyError';
  constructor(
    /** 499: the client went away before its body arrived (nobody is left to answer). */
    readonly status: 400 | 413 | 499,
    message: string,
  ) {
    super(message);
  }
}

export interface BodyLimits extends JsonShapeLimits {
  maxBytes: number;
}

/** The body as text; `json` checks its JSON shape on the way. */
export function readBody(req: IncomingMessage, limits: BodyLimits, json: boolean): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limits.maxBytes) return Promise.reject(new BodyError(413, `request body exceeds ${limits.maxBytes} bytes`));
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    const scanner = json ? new JsonShapeScanner(limits) : undefined;
    let text = '';
    let size = 0;
    let done = false;
    const fail = (error: BodyError) => {
      if (done) return;
      done = true;
      req.removeListener('data', onData);
      req.resume(); // discard the rest; the answer goes out with Connection: close
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return fail(new BodyError(413, `request body exceeds ${limits.maxBytes} bytes`));
      const problem = scanner?.push(chunk);
      if (problem) return fail(new BodyError(400, shapeMessage(problem, limits, 'the request body')));
      text += decoder.write(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (done) return;
      done = true;
      resolve(text + decoder.end());
    });
    // A client that goes away mid-body: nothing to answer, and not a fault of ours.
    const gone = () => fail(new BodyError(499, 'the client went away while sending its request'));
    req.once('error', gone);
    req.once('close', () => {
      if (!req.complete) gone();
    });
  });
}

/** The body as JSON, or a 400 BodyError when it is not valid JSON (an empty body is undefined). */
export function parseJson(body: string): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    throw new BodyError(400, 'request body is not valid JSON');
  }
}
