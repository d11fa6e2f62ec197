// The IDE page: GraphiQL from our own bundle (see ide-assets.ts), opened on the example tabs. Its
// Content-Security-Policy lets the page load and connect to this gateway only, so nothing it does can
// reach a CDN or any other host.
import type { ServerResponse } from 'node:http';
import { IDE_EXAMPLES } from './examples.js';
import type { IdeAssets } from './ide-assets.js';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // GraphiQL sets style attributes from script.
  "style-src 'self' 'unsafe-inline'",
  // The stylesheet inlines its fonts and icons as data: URLs.
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** JSON that can sit inside a <script> element: no `</script>` or `<!--` can close it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function idePage(urls: Record<string, string>, endpoint: string, title: string): string {
  const tabs = IDE_EXAMPLES.map((e) => ({ query: e.query, variables: e.variables ? JSON.stringify(e.variables, null, 2) : undefined }));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${urls['graphiql.css']}">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the GraphQL IDE…</div>
<script type="application/json" id="ide-config">${scriptJson({ endpoint, tabs })}</script>
<script src="${urls['react.js']}"></script>
<script src="${urls['react-dom.js']}"></script>
<script src="${urls['graphiql.js']}"></script>
<script src="${urls['ide.js']}"></script>
</body>
</html>
`;
}

export async function sendIdePage(res: ServerResponse, assets: IdeAssets, endpoint: string, title: string, head: boolean): Promise<void> {
  const html = Buffer.from(idePage(await assets.urls(), endpoint, title));
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': html.length,
    'cache-control': 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(head ? undefined : html);
}
