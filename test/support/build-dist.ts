// Vitest global setup: compiles src/ to dist/ (incrementally: a no-op when nothing changed) before any
// test runs, because worker threads and gateway processes run the compiled JavaScript. Without it a
// test of src/ could silently exercise an old dist/.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(repo, 'tsconfig.json')], { cwd: repo, stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`dist/ could not be built from src/ for the tests:\n${out}`);
  }
}
