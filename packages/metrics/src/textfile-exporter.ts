import { join } from 'node:path';
import { writeFileAtomic } from '@ahc/fs';
import { renderMetrics } from './metric-set';
import type { MetricsSnapshot } from './metric-set';

export const TEXTFILE_NAME = 'anycast_healthchecker.prom';

/**
 * node_exporter's textfile collector: `anycast_healthchecker.prom` in
 * `prometheus_collector_textfile_dir`, rewritten atomically every `prometheus_exporter_interval`
 * seconds, with the Python daemon's metric set.
 */
export class TextfileExporter {
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | null = null;
  lastError: string | null = null;
  writes = 0;

  constructor(
    readonly dir: string,
    private readonly intervalMs: number,
    private readonly snapshot: () => Promise<MetricsSnapshot>,
    private readonly onError: (message: string) => void,
  ) {}

  get path(): string {
    return join(this.dir, TEXTFILE_NAME);
  }

  start(): void {
    void this.writeOnce();
    this.#timer = setInterval(() => void this.writeOnce(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** The last write of a stopping daemon: the values as they are, with `state` 0. */
  async writeFinal(): Promise<void> {
    await this.#inFlight;
    await this.writeOnce(false);
  }

  writeOnce(running = true): Promise<void> {
    if (this.#inFlight !== null) return this.#inFlight;
    const write = this.#write(running).finally(() => {
      this.#inFlight = null;
    });
    this.#inFlight = write;
    return write;
  }

  async #write(running: boolean): Promise<void> {
    try {
      const text = renderMetrics({ ...(await this.snapshot()), running }, false);
      await writeFileAtomic(this.path, text);
      this.writes += 1;
      if (this.lastError !== null) this.lastError = null;
    } catch (error) {
      const message = `cannot write Prometheus textfile ${this.path}: ${(error as Error).message}`;
      // Say it when it starts failing, not every interval.
      if (this.lastError === null) this.onError(message);
      this.lastError = message;
    }
  }
}
