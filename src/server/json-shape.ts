// Checks the shape of JSON as its bytes arrive, before anything parses it: how deep arrays and
// objects nest and how many values there are. JSON.parse itself copes with deep nesting, but what
// walks the result afterwards recurses (a 100,000-deep body overflowed the stack), and parsing
// millions of small values holds the event loop for half a second. A body over either limit is
// refused as soon as the offending byte arrives.
//
// Strings are skipped with Buffer.indexOf (native), so a body made of long texts costs little; the
// byte loop only runs over structure, which the value limit keeps short.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

export interface JsonShapeLimits {
  maxDepth: number;
  /** Most containers plus separated items (a rough count of values). */
  maxValues: number;
}

export type ShapeProblem = 'depth' | 'values';

export class JsonShapeScanner {
  private depth = 0;
  private values = 0;
  private inString = false;
  /** Backslashes ending the previous chunk inside a string (an odd count escapes the next byte). */
  private carry = 0;

  constructor(private readonly limits: JsonShapeLimits) {}

  /** Feeds the next chunk; returns the limit it broke, or undefined. Malformed JSON is JSON.parse's to report. */
  push(chunk: Uint8Array): ShapeProblem | undefined {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        const quote = chunk.indexOf(QUOTE, i);
        const end = quote < 0 ? n : quote;
        let k = end - 1;
        while (k >= i && chunk[k] === BACKSLASH) k--;
        const run = end - 1 - k + (k < i ? this.carry : 0);
        if (quote < 0) {
          this.carry = run;
          return undefined;
        }
        this.carry = 0;
        if (run % 2 === 0) this.inString = false;
        i = quote + 1;
        continue;
      }
      const c = chunk[i++];
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++this.depth > this.limits.maxDepth) return 'depth';
        if (++this.values > this.limits.maxValues) return 'values';
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) this.depth--;
      else if (c === COMMA && ++this.values > this.limits.maxValues) return 'values';
    }
    return undefined;
  }
}

/** The message a client gets for a shape problem. */
export function shapeMessage(problem: ShapeProblem, limits: JsonShapeLimits, what: string): string {
  return problem === 'depth'
    ? `${what} nests arrays and objects more than ${limits.maxDepth} deep`
    : `${what} holds more than ${limits.maxValues} JSON values`;
}
