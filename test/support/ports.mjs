// Free TCP ports on loopback. Plain JavaScript, so that test/bench scripts use it too.
import net from 'node:net';

/** A port nobody listens on now: bind port 0 on 127.0.0.1, note what the OS gave, release it. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
