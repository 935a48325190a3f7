import { createServer } from 'node:net';
import type { Server } from 'node:net';

/**
 * Single instance per network namespace, like the Python daemon: bind the abstract unix socket
 * `@<name>`. The kernel releases it when the process dies, so it can never be stale.
 */
export function acquireInstanceLock(name: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `another anycast-healthchecker is already running in this network namespace (abstract socket @${name} is taken)`
            : `failed to acquire a lock by creating an abstract namespace socket @${name}: ${error.message}`,
        ),
      );
    });
    server.listen(`\0${name}`, () => {
      server.unref();
      resolve(server);
    });
  });
}
