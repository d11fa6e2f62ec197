// A real browser for CORS: headless Chromium loads a page from one origin whose script calls the
// gateway on another; what the script saw is read back from the page's DOM (--dump-dom). No driver
// library: Chromium's own flags are enough for one page load.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

export interface PageServer {
  origin: string;
  /** Serves a page whose script runs `fetch(url, init)` and writes what happened into the page. */
  page(url: string, init: RequestInit): string;
  close(): Promise<void>;
}

/** A web server on its own loopback port: an origin of its own for the browser. */
export async function startPageServer(): Promise<PageServer> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const html = pages.get(req.url ?? '');
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    page(url, init) {
      const name = `/page-${pages.size}.html`;
      pages.set(
        name,
        `<!doctype html><html><body><pre id="out">pending</pre><script>
fetch(${JSON.stringify(url)}, ${JSON.stringify(init)})
  .then(async (r) => { document.getElementById('out').textContent = 'status ' + r.status + ' ' + (await r.text()); })
  .catch((e) => { document.getElementById('out').textContent = 'failed ' + e.message; });
</script></body></html>`,
      );
      return `${origin}${name}`;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Loads `url` in headless Chromium and returns the text the page's script wrote. */
export function browserResult(url: string, timeoutMs = 30_000): Promise<string> {
  const profile = mkdtempSync(path.join(tmpdir(), 'chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=10000',
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
      rmSync(profile, { recursive: true, force: true });
      const out = /<pre id="out">([^<]*)<\/pre>/.exec(stdout)?.[1];
      if (out === undefined) reject(error ?? new Error(`no result in the page: ${stdout.slice(0, 500)}`));
      else resolve(out.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>'));
    });
  });
}
