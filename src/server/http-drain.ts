// Closing the HTTP side of the gateway within a deadline: the listener stops accepting, idle
// keep-alive connections close at once, connections still busy (a 503 being written) close after
// their response, and whatever is still open when the deadline passes is destroyed.
import type { Server } from 'node:http';

/**
 * Resolves once every connection is closed; by `deadline` (performance.now() ms) at the latest.
 * server.close() also closes the idle connections (Node >= 19).
 */
export function closeHttpServer(server: Server, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - performance.now()));
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
