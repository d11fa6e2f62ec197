#!/usr/bin/env node
// Runs the runtime image of deploy/Dockerfile without a container registry or engine: a Debian
// bookworm root filesystem built from Debian's packages (debootstrap, as the node:20-bookworm-slim base
// is), the application staged into /app as the Dockerfile's build stage makes it (npm ci, build,
// prune), then the image's own USER, ENV, ENTRYPOINT and HEALTHCHECK, read from the Dockerfile, run
// as a container would: node as PID 1 of its own PID namespace, the root filesystem mounted
// read-only, a tmpfs on /tmp, the non-root user. Checks: ready, answers, HEALTHCHECK passes, SIGTERM
// drains and exits 0. Linux, as root (namespaces, mounts, chroot); a few minutes the first time.
//
//   npm run check:rootfs                 # rootfs in /tmp/nlp-rootfs (kept for the next run)
//   NLP_ROOTFS=/path npm run check:rootfs
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParser } from 'dockerfile-ast';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BASE = process.env.NLP_ROOTFS ?? '/tmp/nlp-rootfs';
const ROOTFS = path.join(BASE, 'root');
const MNT = path.join(BASE, 'mnt');
const PORT = process.env.NLP_ROOTFS_PORT ?? '4790';
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts });
const step = (msg) => console.log(`\n== ${msg}`);

// ---------------------------------------------------------------- what the Dockerfile's runtime stage says
const dockerfile = DockerfileParser.parse(readFileSync(path.join(REPO, 'deploy/Dockerfile'), 'utf8'));
const froms = dockerfile.getFROMs();
// The runtime stage is the last one (the default target).
const runtimeFrom = froms.at(-1);
if (runtimeFrom.getBuildStage() !== 'runtime') throw new Error('the last stage of deploy/Dockerfile is not "runtime"');
const runtime = dockerfile.getInstructions().filter((i) => i.getRange().start.line > runtimeFrom.getRange().start.line);
const entrypoint = JSON.parse(runtime.find((i) => i.getKeyword() === 'ENTRYPOINT').getArgumentsContent());
const healthcheck = runtime.find((i) => i.getKeyword() === 'HEALTHCHECK').getArgumentsContent();
const healthCmd = JSON.parse(healthcheck.slice(healthcheck.indexOf('['), healthcheck.lastIndexOf(']') + 1));
const user = runtime.find((i) => i.getKeyword() === 'USER').getArgumentsContent().trim();
const workdir = runtime.find((i) => i.getKeyword() === 'WORKDIR').getArgumentsContent().trim();
const env = {};
for (const instr of runtime.filter((i) => i.getKeyword() === 'ENV')) for (const p of instr.getProperties()) env[p.getName()] = p.getValue();
console.log({ base: froms[0].getImageName(), entrypoint, healthCmd, user, workdir, env });
const [uid, gid] = user.split(':');

// ------------------------------------------------------------------------------------------------ rootfs
if (!existsSync(path.join(ROOTFS, 'etc/debian_version'))) {
  step(`debootstrap bookworm into ${ROOTFS}`);
  mkdirSync(ROOTFS, { recursive: true });
  sh('debootstrap', ['--variant=minbase', 'bookworm', ROOTFS, 'http://deb.debian.org/debian']);
}
step('node, user and /app as the Dockerfile makes them');
// The node:20.20-bookworm-slim image's node is the official Node 20.20 build at /usr/local/bin/node.
cpSync(process.execPath, path.join(ROOTFS, 'usr/local/bin/node'));
const passwd = readFileSync(path.join(ROOTFS, 'etc/passwd'), 'utf8');
if (!passwd.includes(`:${uid}:`)) {
  appendFileSync(path.join(ROOTFS, 'etc/group'), `gateway:x:${gid}:\n`);
  appendFileSync(path.join(ROOTFS, 'etc/passwd'), `gateway:x:${uid}:${gid}::/nonexistent:/usr/sbin/nologin\n`);
}
// Build stage: the files the Dockerfile copies (per deploy/Dockerfile.dockerignore), npm ci, build, prune.
const stage = mkdtempSync(path.join(tmpdir(), 'nlp-image-'));
for (const f of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json']) cpSync(path.join(REPO, f), path.join(stage, f));
cpSync(path.join(REPO, 'src'), path.join(stage, 'src'), { recursive: true });
sh('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: stage });
sh('npm', ['run', 'build', '--silent'], { cwd: stage });
sh('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: stage });
const app = path.join(ROOTFS, workdir.replace(/^\//, ''));
rmSync(app, { recursive: true, force: true });
mkdirSync(app, { recursive: true });
for (const f of ['package.json', 'node_modules', 'dist']) cpSync(path.join(stage, f), path.join(app, f), { recursive: true });
cpSync(path.join(REPO, 'models'), path.join(app, 'models'), { recursive: true, filter: (src) => !/models\/(scripts|training)(\/|$)/.test(src) });
rmSync(stage, { recursive: true, force: true });

// ------------------------------------------------------------------------------------- run as a container
step(`run ${entrypoint.join(' ')} as ${user}, PID 1, read-only root, tmpfs /tmp`);
mkdirSync(MNT, { recursive: true });
const inside = (argv) =>
  [
    `mount --bind ${ROOTFS} ${MNT}`,
    `mount -o remount,bind,ro ${MNT}`,
    `mount -t tmpfs -o size=64m tmpfs ${MNT}/tmp`,
    `mount -t proc proc ${MNT}/proc`,
    `cd / && exec chroot --userspec=${uid}:${gid} ${MNT} /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin ${Object.entries({ ...env, PORT })
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} /bin/sh -c 'cd ${workdir} && exec "$@"' sh ${argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')}`,
  ].join(' && ');
const container = spawn('unshare', ['--mount', '--pid', '--fork', '--propagation', 'private', 'sh', '-c', inside(entrypoint)], { stdio: ['ignore', 'pipe', 'inherit'] });
let log = '';
container.stdout.on('data', (d) => (log += d));
const exited = new Promise((resolve) => container.once('exit', (code, signal) => resolve(code ?? signal)));
const base = `http://127.0.0.1:${PORT}`;
const deadline = Date.now() + 120_000;
while ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) !== 200) {
  if (Date.now() > deadline || container.exitCode !== null) throw new Error(`not ready:\n${log}`);
  await new Promise((r) => setTimeout(r, 250));
}
const checks = {};
// The process unshare forked, after its chain of execs: node, PID 1 in its namespace.
const pid1 = Number(execFileSync('pgrep', ['-P', String(container.pid)]).toString().trim().split('\n')[0]);
const status = readFileSync(`/proc/${pid1}/status`, 'utf8');
checks.pid1 = /^Name:\s+node$/m.test(status) && new RegExp(`^NSpid:\\s+${pid1}\\s+1$`, 'm').test(status) && new RegExp(`^Uid:\\s+${uid}\\b`, 'm').test(status);
const answer = await fetch(`${base}/graphql`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: '{ classify(text: "WIN a FREE cruise, click now!") { label } embed(text: "hello") { dimensions } }' }),
}).then((r) => r.json());
checks.answers = answer.data?.classify?.label === 'spam' && answer.data?.embed?.dimensions === 100;
// The HEALTHCHECK, run inside the same root filesystem as the same user (Docker runs it in the container).
const health = spawn('unshare', ['--mount', '--pid', '--fork', '--propagation', 'private', 'sh', '-c', inside(healthCmd)], { stdio: 'inherit' });
checks.healthcheck = (await new Promise((resolve) => health.once('exit', resolve))) === 0;
// SIGTERM to the container's PID 1, as `docker stop` and the kubelet send it.
process.kill(pid1, 'SIGTERM');
checks.exitCode = await exited;
checks.stopped = log.includes('"msg":"stopped"');
checks.readOnlyRootNoErrors = !/EROFS|EACCES/.test(log);
console.log('\n', checks);
writeFileSync(path.join(BASE, 'last-run.log'), log);
const ok = checks.pid1 && checks.answers && checks.healthcheck && checks.exitCode === 0 && checks.stopped && checks.readOnlyRootNoErrors;
console.log(ok ? 'rootfs check: OK' : 'rootfs check: FAILED');
process.exit(ok ? 0 : 1);
