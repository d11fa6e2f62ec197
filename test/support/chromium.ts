// Debian's headless Chromium driven by playwright-core (never a downloaded browser), for tests of what
// a person sees in a browser. Every request to a host other than loopback goes to a proxy on loopback
// that refuses it and records it, so nothing the browser does can leave the machine.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface SandboxedBrowser {
  browser: Browser;
  /** Requests that tried to leave loopback ("CONNECT host:443" or "GET http://host/..."). */
  refused: string[];
  close(): Promise<void>;
}

export async function launchChromium(): Promise<SandboxedBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
  const refused: string[] = [];
  const proxy: Server = createServer((req, res) => {
    refused.push(`${req.method} ${req.url}`);
    res.writeHead(502).end();
  });
  proxy.on('connect', (req, socket) => {
    refused.push(`CONNECT ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright gives each launch a fresh, temporary profile (--user-data-dir).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Loopback always bypasses a proxy; everything else goes to the refusing one.
      `--proxy-server=http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    ],
  });
  return {
    browser,
    refused,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

/** True for URLs that stay on this machine (or in the page: data:, blob:, about:). */
export function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (['data:', 'blob:', 'about:'].includes(protocol)) return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}
