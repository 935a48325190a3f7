import type { LogSink } from './logger';
import type { LevelName } from './log-record';

/**
 * JSON log shipping over HTTP POST (`json_logging`, `http_server*`, from the Python daemon's
 * 0.6 documentation). The Python daemon posts in blocking mode, delaying checks; here records go
 * into a bounded queue and one request at a time drains it. When the server is slow or dead the
 * queue fills and the oldest records are dropped and counted; nothing ever waits for it.
 */
export class HttpJsonSink implements LogSink {
  #queue: string[] = [];
  #inFlight = false;
  #dropped = 0;
  #failed = 0;
  #sent = 0;
  /** http.request or https.request, loaded here: only a configured sink pays for node:http(s). */
  readonly #send: typeof import('node:http').request;

  constructor(
    private readonly url: URL,
    private readonly timeoutMs: number,
    private readonly maxQueue = 1000,
  ) {
    // node:https alone costs about 4 MiB of memory (docs/design.md, "Memory").
    this.#send = url.protocol === 'https:' ? process.getBuiltinModule('node:https').request : process.getBuiltinModule('node:http').request;
  }

  get stats(): { sent: number; dropped: number; failed: number; queued: number } {
    return { sent: this.#sent, dropped: this.#dropped, failed: this.#failed, queued: this.#queue.length };
  }

  write(line: string, _level?: LevelName): void {
    if (this.#queue.length >= this.maxQueue) {
      this.#queue.shift();
      this.#dropped += 1;
    }
    this.#queue.push(line.replace(/\n$/, ''));
    this.#pump();
  }

  #pump(): void {
    if (this.#inFlight) return;
    const body = this.#queue.shift();
    if (body === undefined) return;
    this.#inFlight = true;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      if (ok) this.#sent += 1;
      else this.#failed += 1;
      this.#inFlight = false;
      setImmediate(() => this.#pump());
    };
    const req = this.#send(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: this.timeoutMs,
    }, (res) => {
      res.resume();
      res.on('end', () => finish((res.statusCode ?? 500) < 400));
      res.on('error', () => finish(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => finish(false));
    req.end(body);
  }
}
