// The files the IDE page loads, served from our own process: a fixed allow-list (no path from the URL
// ever reaches the file system), each read once, gzipped once, and cached by browsers for a year
// under a URL that carries its content hash.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { IDE_SCRIPT } from './ide-script.js';

const gzipAsync = promisify(gzip);
const require = createRequire(import.meta.url);

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

type Source = { pkg: string; file: string } | { text: string };

/** URL name under /ide/ -> where the bytes come from. GraphiQL 4's UMD build wants React 18 as globals. */
const ALLOWED: Record<string, { source: Source; type: string }> = {
  'react.js': { source: { pkg: 'react', file: 'umd/react.production.min.js' }, type: JS },
  'react-dom.js': { source: { pkg: 'react-dom', file: 'umd/react-dom.production.min.js' }, type: JS },
  'graphiql.js': { source: { pkg: 'graphiql', file: 'dist/index.umd.js' }, type: JS },
  'graphiql.css': { source: { pkg: 'graphiql', file: 'dist/style.css' }, type: CSS },
  'ide.js': { source: { text: IDE_SCRIPT }, type: JS },
};

export const IDE_PREFIX = '/ide/';

export interface Asset {
  name: string;
  type: string;
  body: Buffer;
  gzipped: Buffer;
  /** Short content hash: the ETag and the `v` of the page's URLs. */
  hash: string;
}

async function readSource(source: Source): Promise<Buffer> {
  if ('text' in source) return Buffer.from(source.text);
  const dir = path.dirname(require.resolve(`${source.pkg}/package.json`));
  return readFile(path.join(dir, source.file));
}

export class IdeAssets {
  private readonly loaded = new Map<string, Promise<Asset>>();

  static readonly names = Object.keys(ALLOWED);

  /** The asset, read and compressed on first use (the IDE costs nothing until someone opens it). */
  get(name: string): Promise<Asset> | undefined {
    const entry = ALLOWED[name];
    if (!entry) return undefined;
    let asset = this.loaded.get(name);
    if (!asset) {
      asset = (async () => {
        const body = await readSource(entry.source);
        return { name, type: entry.type, body, gzipped: await gzipAsync(body), hash: createHash('sha256').update(body).digest('hex').slice(0, 16) };
      })();
      // A failed read is not remembered: the next request tries again.
      asset.catch(() => this.loaded.delete(name));
      this.loaded.set(name, asset);
    }
    return asset;
  }

  /** `/ide/<name>?v=<hash>` for each asset, for the page to reference. */
  async urls(): Promise<Record<string, string>> {
    const assets = await Promise.all(IdeAssets.names.map((n) => this.get(n)!));
    return Object.fromEntries(assets.map((a) => [a.name, `${IDE_PREFIX}${a.name}?v=${a.hash}`]));
  }

  /** Answers GET/HEAD /ide/<name>; false when `name` is not an IDE file. */
  async serve(req: IncomingMessage, res: ServerResponse, name: string, search: string): Promise<boolean> {
    const pending = this.get(name);
    if (!pending) return false;
    const asset = await pending;
    const etag = `"${asset.hash}"`;
    const versioned = new URLSearchParams(search).get('v') === asset.hash;
    const headers: Record<string, string | number> = {
      'content-type': asset.type,
      etag,
      // The page asks for the hash it knows: that URL never changes content. Any other URL revalidates.
      'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gz ? asset.gzipped : asset.body;
    if (gz) headers['content-encoding'] = 'gzip';
    headers['content-length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
