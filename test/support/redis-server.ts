// A real, throw-away redis-server for tests: no persistence, loopback only, on a free port that
// survives restarts (so a client can reconnect to "the same" Redis).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.mjs';

export interface RedisHandle {
  port: number;
  url: string;
  /** SIGKILL: connections drop at once, as when Redis crashes. */
  stop(): Promise<void>;
  /** Kills (if running) and starts a fresh, empty server on the same port. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but stops answering (a hung Redis). */
  pause(): void;
  resume(): void;
}

const REDIS_BIN = process.env['REDIS_SERVER'] ?? '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;

/** `args`: more redis-server options, e.g. ['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru']. */
export async function startRedis(args: string[] = []): Promise<RedisHandle> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  // A test that fails before stop() must not leave a server behind.
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const launch = async () => {
    const proc = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child = proc;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answersPing(port))) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`redis-server exited (${proc.exitCode ?? proc.signalCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms`);
      await sleep(25);
    }
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await stop();
      process.removeListener('exit', killOnExit);
    },
    async restart() {
      await stop();
      await launch();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  };
}

/** True when something on the port answers PING with PONG within a short while. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
