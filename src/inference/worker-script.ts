// Where a worker thread's script is: next to the calling module when running the build, or in dist/
// when tests run the TypeScript sources (workers need compiled JavaScript; the test run compiles
// dist/ from src/ first, test/support/build-dist.ts, so it is never stale).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `relative`: the script's path from src/inference/, e.g. 'onnx/session-worker.js'. */
export function workerScript(relative: string): URL {
  const here = new URL(relative, import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  return new URL(`file://${path.join(repo, 'dist/inference', relative)}`);
}
