// The GraphiQL IDE as a person meets it: Debian's headless Chromium opens the gateway, types a query,
// runs it and reads the answer from the page, while every request is checked to stay on loopback.
// Then the page's HTTP contract: off by config and in production, the asset allow-list and caching.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback, launchChromium, type SandboxedBrowser } from '../support/chromium.js';
import { REPO, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { addTinyClassifier, makeRepo } from '../support/model-repo.js';

const SCREENSHOT = path.join(REPO, 'test-results/ide-graphiql.png');
const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('the IDE in a real browser', () => {
  let gw: GatewayProcess;
  let sandbox: SandboxedBrowser;

  beforeAll(async () => {
    // The built-in models, as a new user would see them.
    [gw, sandbox] = await Promise.all([startGatewayProcess(), launchChromium()]);
    await gw.waitReady();
  });
  afterAll(async () => {
    await sandbox?.close();
    await gw?.stop();
  });

  it('opens on the examples and the docs, runs a typed query and shows the answer; nothing leaves loopback', async () => {
    const context = await sandbox.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const requested: string[] = [];
    const problems: string[] = [];
    context.on('request', (r) => requested.push(r.url()));
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

    await page.goto(`${gw.base}/`); // redirects to /graphql
    expect(new URL(page.url()).pathname).toBe('/graphql');
    await page.waitForSelector('.graphiql-query-editor .CodeMirror');

    // Pre-filled: one tab per example operation, the first with its variables, and the schema's docs.
    await expect.poll(() => page.locator('.graphiql-tab').allInnerTexts()).toEqual(['Classify', 'ClassifyBatch', 'Embed', 'Models', 'Health']);
    const variables = await page.evaluate(() => (globalThis as any).document.querySelector('.graphiql-editor-tool .CodeMirror')?.CodeMirror.getValue());
    expect(JSON.parse(variables)).toHaveProperty('text');
    await page.getByText('Root Types').waitFor();
    await page.getByRole('button', { name: 'Headers' }).waitFor();

    // A new tab; the query typed as a person would (inserted text, so the editor's bracket
    // auto-closing does not double what is typed), then run with the button.
    await page.getByRole('button', { name: 'New tab' }).click();
    await page.click('.graphiql-query-editor .CodeMirror');
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(
      'query SpamCheck {\n  classify(text: "Congratulations! You have WON a FREE cruise, click here now") {\n    label\n    score\n    model { name version }\n  }\n}',
    );
    // The tab takes the operation's name once GraphiQL has parsed the edit.
    await page.locator('.graphiql-tab-active', { hasText: 'SpamCheck' }).waitFor();
    await page.click('.graphiql-execute-button');
    // Browser code: the test's TypeScript has no DOM types.
    const readAnswer = () => page.evaluate(() => (globalThis as any).document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue() ?? '');
    await expect.poll(readAnswer, { timeout: 20_000 }).toContain('"classify"');
    const answer = JSON.parse(await readAnswer());
    expect(answer.errors).toBeUndefined();
    expect(answer.data.classify).toMatchObject({ label: 'spam', model: { name: 'spam-bert' } });
    expect(answer.data.classify.score).toBeGreaterThan(0.5);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    await context.close();

    // Every request of the page (documents, scripts, styles, fetches, workers) went to the gateway,
    // and none was blocked by the page's Content-Security-Policy (which would hide a CDN reference).
    expect(requested.length).toBeGreaterThan(5);
    expect(requested.filter((u) => !isLoopback(u))).toEqual([]);
    expect(requested.some((u) => u.includes('/ide/graphiql.js'))).toBe(true);
    expect(problems).toEqual([]);
    // What Chromium tries on its own (its update and account services) went to the refusing proxy on
    // loopback, like anything else bound off the machine; none of it was a CDN.
    expect(sandbox.refused.filter((r) => /jsdelivr|unpkg|cdnjs|esm\.sh|skypack|apollographql|fonts\.(googleapis|gstatic)/.test(r))).toEqual([]);
  });
});

describe('the IDE over HTTP', () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    gw = await startGatewayProcess({ MODELS_DIR: repo });
    await gw.waitReady();
  });
  afterAll(() => gw?.stop());

  it('serves the page to browsers only, with a policy that keeps it on this gateway', async () => {
    const page = await fetch(`${gw.base}/graphql`, { headers: HTML });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const name of ['react.js', 'react-dom.js', 'graphiql.js', 'graphiql.css', 'ide.js']) expect(html).toContain(`/ide/${name}?v=`);

    // A GraphQL GET (query in the URL) is still GraphQL, whatever the Accept header says.
    const query = await fetch(`${gw.base}/graphql?query=${encodeURIComponent('{ health { status } }')}`, {
      headers: { accept: 'text/html, application/json', 'apollo-require-preflight': 'true' },
    });
    expect(await query.json()).toMatchObject({ data: { health: { status: 'OK' } } });
    // Non-browsers get the index at /, browsers the IDE.
    expect(await (await fetch(`${gw.base}/`)).json()).toMatchObject({ name: 'nlp-gateway', graphql: '/graphql' });
    const redirect = await fetch(`${gw.base}/`, { headers: HTML, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/graphql');
  });

  it('serves only the allow-listed files, compressed, cached for a year under their hash and revalidated otherwise', async () => {
    const html = await (await fetch(`${gw.base}/graphql`, { headers: HTML })).text();
    const url = /\/ide\/graphiql\.js\?v=([0-9a-f]+)/.exec(html)!;
    const hashed = await fetch(`${gw.base}${url[0]}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(hashed.status).toBe(200);
    expect(hashed.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(hashed.headers.get('content-encoding')).toBe('gzip');
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(hashed.headers.get('etag')).toBe(`"${url[1]}"`);
    const body = await hashed.text(); // fetch decompresses
    expect(body).toContain('GraphiQL');

    const plain = await fetch(`${gw.base}/ide/graphiql.css`);
    expect(plain.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    const again = await fetch(`${gw.base}/ide/graphiql.css`, { headers: { 'if-none-match': plain.headers.get('etag')! } });
    expect(again.status).toBe(304);

    for (const bad of ['/ide/index.umd.js.map', '/ide/../package.json', '/ide/%2e%2e/package.json', '/ide/', '/ide/graphiql.js/x']) {
      expect((await fetch(`${gw.base}${bad}`)).status, bad).toBe(404);
    }
    expect((await fetch(`${gw.base}/ide/graphiql.js`, { method: 'POST' })).status).toBe(405);
  });
});

describe('switching the IDE off', () => {
  async function pageOf(env: Record<string, string>) {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    const gw = await startGatewayProcess({ MODELS_DIR: repo, ...env });
    try {
      await gw.waitReady();
      const page = await fetch(`${gw.base}/graphql`, { headers: HTML });
      const root = await fetch(`${gw.base}/`, { headers: HTML, redirect: 'manual' });
      const asset = await fetch(`${gw.base}/ide/graphiql.js`);
      return { ide: page.headers.get('content-type')?.startsWith('text/html') ?? false, root: root.status, index: await root.json().catch(() => null), asset: asset.status };
    } finally {
      await gw.stop();
    }
  }

  it('is off by default with NODE_ENV=production: no page, no files, / answers the JSON index', async () => {
    const off = await pageOf({ NODE_ENV: 'production' });
    expect(off).toMatchObject({ ide: false, root: 200, asset: 404 });
    expect(off.index).toMatchObject({ ide: 'off (GRAPHQL_IDE)' });
  });

  it('follows GRAPHQL_IDE either way', async () => {
    expect(await pageOf({ NODE_ENV: 'production', GRAPHQL_IDE: 'true' })).toMatchObject({ ide: true, root: 302, asset: 200 });
    expect(await pageOf({ GRAPHQL_IDE: 'false' })).toMatchObject({ ide: false, root: 200, asset: 404 });
  });
});
