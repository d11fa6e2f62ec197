// A real browser for CORS: headless Chromium (chromium.ts) loads a page from one origin whose script
// calls the gateway on another; what the script saw is read back from the page.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchChromium } from './chromium.js';

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

/** Loads `url` in headless Chromium (sandboxed to loopback) and returns the text the page's script wrote. */
export async function browserResult(url: string, timeoutMs = 30_000): Promise<string> {
  const sandbox = await launchChromium();
  try {
    const page = await sandbox.browser.newPage();
    await page.goto(url);
    // The page's own script (not the test) runs in the browser: wait until it has written its result.
    await page.waitForFunction("document.getElementById('out').textContent !== 'pending'", undefined, { timeout: timeoutMs });
    return (await page.locator('#out').textContent()) ?? '';
  } finally {
    await sandbox.close();
  }
}
