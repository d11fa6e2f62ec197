// The address of an anonymous client, its identity for rate limits and fair shares. Behind trusted
// reverse proxies (TRUST_PROXY_HOPS) it is read from X-Forwarded-For, counting from the right: each
// proxy appends the address it saw, and anything further left was written by the client itself.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) reads as `10.0.0.1`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = plain(req.socket.remoteAddress ?? 'unknown');
  if (trustedHops === 0) return peer;
  const header = req.headers['x-forwarded-for'];
  if (header === undefined) return peer;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',').map((h) => h.trim());
  // Fewer entries than trusted proxies: the leftmost is the best the chain knows.
  const candidate = hops[Math.max(0, hops.length - trustedHops)] ?? '';
  return isIP(candidate) ? plain(candidate) : peer;
}
