// Drives many check transitions: toggles health files (present = healthy) at random, one every
// few milliseconds, so services keep changing state and the daemon keeps rewriting its BIRD
// files. The pacing is load generation, not synchronisation: nothing waits on it.
import { rmSync, writeFileSync } from 'node:fs';

export class HealthFlipper {
  #timer: NodeJS.Timeout | undefined;
  #flips = 0;
  readonly #healthy: boolean[];

  /** `files`: one health file per service; all start healthy. */
  constructor(
    private readonly files: readonly string[],
    private readonly random: () => number = Math.random,
  ) {
    if (files.length === 0) throw new Error('HealthFlipper needs at least one file');
    this.#healthy = files.map(() => true);
    for (const file of files) writeFileSync(file, '');
  }

  get flips(): number {
    return this.#flips;
  }

  /** Toggle one random file every `everyMs`. */
  start(everyMs: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.flipOne(), everyMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  flipOne(): void {
    const i = Math.floor(this.random() * this.files.length);
    const file = this.files[i];
    if (file === undefined) return;
    const healthy = !(this.#healthy[i] ?? true);
    if (healthy) writeFileSync(file, '');
    else rmSync(file, { force: true });
    this.#healthy[i] = healthy;
    this.#flips += 1;
  }
}
