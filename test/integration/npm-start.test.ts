// `npm start` as a new user runs it: the built server, no npm warnings (an unknown .npmrc key, engine
// mismatches) and no compile step. npm's own environment is stripped so that a --silent parent run
// cannot hide what npm prints.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { deployedEnv, REPO } from '../support/gateway-process.js';
import { addTinyClassifier, makeRepo } from '../support/model-repo.js';

function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out = deployedEnv(env);
  for (const key of Object.keys(out)) if (/^npm_/i.test(key)) delete out[key];
  return out;
}

/**
 * Runs `npm <args>` in its own process group; `until` decides from the output so far when to press
 * Ctrl-C (SIGINT to the whole group, as a terminal does: npm does not forward signals itself).
 */
function npm(args: string[], env: Record<string, string>, until?: (output: string) => boolean) {
  const child = spawn('npm', args, { cwd: REPO, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  let stopped = false;
  const collect = (d: Buffer) => {
    output += d;
    if (until && !stopped && until(output)) {
      stopped = true;
      process.kill(-child.pid!, 'SIGINT');
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise<{ code: number | null; output: string }>((resolve) => child.once('close', (code) => resolve({ code, output })));
}

const npmWarning = /^npm (warn|WARN|notice|ERR!?|error)\b/m;

describe('npm start', () => {
  it('serves the built output with no npm warning lines, and stops cleanly on Ctrl-C', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    const { output } = await npm(['start'], { MODELS_DIR: repo }, (out) => /"msg":"ready"/.test(out));
    expect(output).toMatch(/"msg":"ready"/);
    expect(output).toMatch(/"signal":"SIGINT","msg":"shutdown requested"/);
    expect(output).toMatch(/"msg":"stopped"/);
    expect(output).not.toMatch(npmWarning);
    expect(output).not.toMatch(/\btsc\b/); // no compile on start
    // Apart from npm's "> nlp-gateway@x start" banner, every line is a JSON log line.
    const lines = output.split('\n').filter((l) => l.trim() && !l.startsWith('> '));
    expect(lines.every((l) => l.startsWith('{"level":'))).toBe(true);
  });

  it('npm start -- --help prints the serve command help instead of starting', async () => {
    const { code, output } = await npm(['start', '--', '--help'], {});
    expect(code).toBe(0);
    expect(output).toContain('Usage: nlp-gateway serve [options]');
    expect(output).not.toMatch(npmWarning);
  });
});
