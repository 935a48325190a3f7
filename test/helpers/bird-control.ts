// A persistent connection to a BIRD control socket, speaking its line protocol directly (what
// birdc does): for polling a routing table every few milliseconds without spawning birdc each
// time. Replies are lines `DDDD-text` (more follows), ` text` (continuation) and a final
// `DDDD text`; codes 8xxx/9xxx are errors.
import { connect, type Socket } from 'node:net';

export class BirdControlError extends Error {
  readonly code = 'AHC_TEST_BIRD_CONTROL';
  constructor(message: string) {
    super(message);
    this.name = 'BirdControlError';
  }
}

interface Waiter {
  readonly resolve: (lines: string[]) => void;
  readonly reject: (error: Error) => void;
}

export class BirdControl {
  #buffer = '';
  #lines: string[] = [];
  #queue: Waiter[] = [];
  #closed: Error | null = null;
  /** The greeting (`0001 BIRD 2.x ready.`) is a reply nobody asked for. */
  #greeted = false;
  #greeting: Waiter | null = null;

  private constructor(
    readonly path: string,
    private readonly socket: Socket,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#receive(chunk));
    socket.on('error', (error) => this.#fail(new BirdControlError(`BIRD control socket ${path}: ${error.message}`)));
    socket.on('close', () => this.#fail(new BirdControlError(`BIRD control socket ${path} closed`)));
  }

  /** Connect and wait for BIRD's greeting. */
  static async open(path: string, timeoutMs = 2_000): Promise<BirdControl> {
    const socket = connect(path);
    const control = new BirdControl(path, socket);
    let timer: NodeJS.Timeout | undefined;
    const greeted = new Promise<string[]>((resolve, reject) => {
      control.#greeting = { resolve, reject };
      timer = setTimeout(() => reject(new BirdControlError(`no greeting on ${path} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await greeted;
    } catch (error) {
      control.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return control;
  }

  /** Send one command; resolves to the reply's text lines (codes stripped), rejects on 8xxx/9xxx. */
  command(text: string): Promise<string[]> {
    if (this.#closed !== null) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ resolve, reject });
      this.socket.write(`${text}\n`);
    });
  }

  close(): void {
    this.#fail(new BirdControlError(`BIRD control connection ${this.path} closed`));
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let nl = this.#buffer.indexOf('\n');
    while (nl !== -1) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      this.#line(line);
      nl = this.#buffer.indexOf('\n');
    }
  }

  #line(line: string): void {
    if (line.startsWith('+')) return; // asynchronous notice
    if (line.startsWith(' ')) {
      this.#lines.push(line.slice(1));
      return;
    }
    const m = /^(\d{4})([ -])(.*)$/.exec(line);
    if (m === null) {
      this.#lines.push(line);
      return;
    }
    const [, code = '', sep, text = ''] = m;
    this.#lines.push(text);
    if (sep !== ' ') return;
    const lines = this.#lines;
    this.#lines = [];
    const waiter = this.#greeted ? this.#queue.shift() : this.#greeting;
    this.#greeted = true;
    if (waiter === undefined || waiter === null) return;
    if (code.startsWith('8') || code.startsWith('9')) waiter.reject(new BirdControlError(`BIRD error ${code}: ${lines.join('\n')}`));
    else waiter.resolve(lines);
  }

  #fail(error: Error): void {
    if (this.#closed === null) this.#closed = error;
    for (const waiter of this.#queue.splice(0)) waiter.reject(error);
    this.#greeting?.reject(error);
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

/**
 * Networks in `table` from `show route count` (BIRD 2: `N of M routes for K networks in table T`);
 * resolves to K.
 */
export async function networkCount(control: BirdControl, table: string): Promise<number> {
  const lines = await control.command(`show route table ${table} count`);
  for (const line of lines) {
    const m = /(\d+) of \d+ routes for (\d+) networks in table (\S+)/.exec(line);
    if (m !== null && m[3] === table) return Number(m[2]);
  }
  throw new BirdControlError(`no route count for ${table} in: ${lines.join(' | ')}`);
}
