import type { LogSink } from './logger';
import type { LevelName } from './log-record';
import { MonitoredSink } from './sink-health';

/**
 * JSON log shipping over HTTP POST (`json_logging`, `http_server*`, from the Python daemon's
 * 0.6 documentation). The Python daemon posts in blocking mode, delaying checks; here records go
 * into a bounded queue and one request at a time drains it. When the server is slow or dead the
 * queue fills and the oldest records are dropped and counted; nothing ever waits for it. The first
 * failed request or dropped record of an episode is reported once, the first request that works
 * again says how many records were lost.
 */
export class HttpJsonSink extends MonitoredSink implements LogSink {
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
    super(`HTTP log server ${url.href}`);
    this.#send = url.protocol === 'https:' ? process.getBuiltinModule('node:https').request : process.getBuiltinModule('node:http').request;
  }

  get stats(): { sent: number; dropped: number; failed: number; queued: number } {
    return { sent: this.#sent, dropped: this.#dropped, failed: this.#failed, queued: this.#queue.length };
  }

  write(line: string, _level?: LevelName): void {
    if (this.#queue.length >= this.maxQueue) {
      this.#queue.shift();
      this.#dropped += 1;
      this.health.stalled(`${this.#queue.length} records are waiting`);
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
    const finish = (why: string | null): void => {
      if (done) return;
      done = true;
      if (why === null) {
        this.#sent += 1;
        this.health.ok();
      } else {
        this.#failed += 1;
        this.health.failed(why);
      }
      this.#inFlight = false;
      setImmediate(() => this.#pump());
    };
    let req: import('node:http').ClientRequest;
    try {
      req = this.#send(
        this.url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: this.timeoutMs,
        },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 500;
          res.on('end', () => finish(code < 400 ? null : `HTTP status ${code}`));
          res.on('error', (error) => finish(error.message));
        },
      );
    } catch (error) {
      finish((error as Error).message);
      return;
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
    req.on('error', (error) => finish(error.message));
    req.end(body);
  }
}
