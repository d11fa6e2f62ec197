// Starts the built gateway (dist/main.js) as a real process on a loopback port, as a user would run it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * How the gateway starts, from the repository (or image) root: the image's ENTRYPOINT and
 * `npm run serve` are this command; test/integration/container.test.ts checks that they stay so.
 */
export const START_COMMAND = ['node', '--import', './dist/instrumentation.js', 'dist/main.js'] as const;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  base: string;
  url: string;
  logs: LogLine[];
  /** Raw stdout and stderr, for asserting what is (not) logged. */
  output: () => string;
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * The environment a container gives the gateway: the test runner's own, without NODE_ENV (vitest sets
 * it to `test`, which changes how libraries behave) and without VITEST* variables; `env` on top.
 */
export function deployedEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (key !== 'NODE_ENV' && !key.startsWith('VITEST')) out[key] = value;
  return { ...out, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env };
}

/** Spawns the gateway and resolves once it listens (models may still be loading). */
export async function startGatewayProcess(env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, START_COMMAND.slice(1), {
    cwd: REPO,
    env: deployedEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let raw = '';
  child.stderr!.on('data', (d) => (raw += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      raw += `${line}\n`;
      try {
        const entry = JSON.parse(line) as LogLine;
        logs.push(entry);
        if (entry.msg === 'listening') resolve(entry.port as number);
      } catch {
        /* not JSON: kept in raw output */
      }
    });
    exited.then((code) => reject(new Error(`gateway exited with ${code} before listening:\n${raw}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    child,
    port,
    base,
    url: `${base}/graphql`,
    logs,
    output: () => raw,
    exited,
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const res = await fetch(`${base}/readyz`).catch(() => undefined);
        if (res?.status === 200) return;
        if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${raw}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`gateway not ready after ${timeoutMs} ms:\n${raw}`);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
