// nginx (Debian's) as the load balancer in front of gateways on loopback, running deploy/nginx's
// configuration with the test's ports put in. Plain JavaScript, so that test/bench scripts use it too.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const NGINX_CONF = path.join(REPO, 'deploy/nginx/nlp-gateway.conf');
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';

/** deploy/nginx/nlp-gateway.conf with `upstreams` as its servers and `port` as its listen port. */
export function renderSite(port, upstreams, { strictPort } = {}) {
  let site = readFileSync(NGINX_CONF, 'utf8');
  const serverLine = /^(\s*)server 127\.0\.0\.1:\d+ (.*);$/m;
  const [, indent, params] = serverLine.exec(site);
  site = site.replace(/^\s*server 127\.0\.0\.1:\d+ .*;\n/gm, '');
  site = site.replace(/(upstream nlp_gateways \{\n(?:\s*#.*\n)*)/, (head) => head + upstreams.map((p) => `${indent}server 127.0.0.1:${p} ${params};\n`).join(''));
  site = site.replace(/listen 127\.0\.0\.1:\d+;/, `listen 127.0.0.1:${port};`);
  if (strictPort) {
    // The same site on another port without non_idempotent: nginx's default for POST.
    const server = /\nserver \{[\s\S]*\n\}\n/.exec(site)[0];
    site += server.replace(/listen 127\.0\.0\.1:\d+;/, `listen 127.0.0.1:${strictPort};`).replace(' non_idempotent;', ';');
  }
  return site;
}

/**
 * Starts nginx on `port` in front of `upstreams` (ports on 127.0.0.1). `strictPort`: also serve the
 * site without retries of POST there. Resolves once it accepts connections.
 */
export async function startNginx({ port, upstreams, strictPort }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'nlp-nginx-'));
  for (const d of ['body', 'proxy', 'logs']) mkdirSync(path.join(dir, d));
  writeFileSync(path.join(dir, 'site.conf'), renderSite(port, upstreams, { strictPort }));
  const root = process.getuid?.() === 0;
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      root ? 'user root;' : '',
      'worker_processes 1;',
      'daemon off;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/logs/error.log warn;`,
      'events { worker_connections 4096; }',
      'http {',
      `  log_format upstream '$server_port $status $upstream_addr $upstream_status $request_time';`,
      `  access_log ${dir}/logs/access.log upstream;`,
      `  client_body_temp_path ${dir}/body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  include ${dir}/site.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  execFileSync(NGINX, ['-t', '-q', '-p', dir, '-c', path.join(dir, 'nginx.conf')]);
  const child = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    strictUrl: strictPort ? `http://127.0.0.1:${strictPort}/graphql` : undefined,
    dir,
    /** nginx's error log: what it retried and why. */
    errorLog: () => readFileSync(path.join(dir, 'logs/error.log'), 'utf8'),
    /** One line per client request: status, upstreams tried, their statuses, time. */
    accessLog: () => readFileSync(path.join(dir, 'logs/access.log'), 'utf8'),
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
