import type { Server } from 'node:http';
import { CONTENT_TYPE } from './exposition';
import { renderMetrics } from './metric-set';
import type { MetricsSnapshot } from './metric-set';

/** `prometheus_listen = HOST:PORT`: /metrics with the full metric set. Off by default. */
export class HttpExporter {
  #server: Server | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly snapshot: () => Promise<MetricsSnapshot>,
  ) {}

  async listen(): Promise<{ host: string; port: number }> {
    // node:http is loaded only when prometheus_listen is set (memory: see docs/design.md).
    const server = process.getBuiltinModule('node:http').createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      this.snapshot()
        .then((s) => {
          res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(renderMetrics(s, true));
        })
        .catch((error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`));
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    server.unref();
    this.#server = server;
    const addr = server.address();
    return { host: this.host, port: typeof addr === 'object' && addr !== null ? addr.port : this.port };
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** `127.0.0.1:9610`, `[::1]:9610`, `:9610` (all addresses). */
export function parseListenAddress(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (m === null) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]);
  return { host, port };
}
