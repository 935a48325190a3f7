// Unmapping the node executable's start-up pages once the checks run (`release_startup_pages`,
// docs/design.md, "Memory: the node binary's start-up pages"). The work is done by the addon
// ahc-release-pages.node (packages/spawn-helper/src/release-pages.c), built next to the bundle.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@ahc/logging';
import { monotonicMs } from '@ahc/protocol';

const BUNDLED_ADDON = fileURLToPath(new URL('./ahc-release-pages.node', import.meta.url));

/** What the addon's releaseStartupPages() answers. */
export interface AddonOutcome {
  /** Resident KiB of the mappings it released, just before. */
  readonly releasedKiB: number;
  readonly mappings: number;
  /** The executable's mappings left alone: writable, or holding copied-on-write pages. */
  readonly skipped: number;
  readonly skippedKiB: number;
}

interface Addon {
  releaseStartupPages(): AddonOutcome;
}

/** One release: the addon's answer and the process's VmRSS around it (KiB; null where unreadable). */
export interface Release extends AddonOutcome {
  readonly rssBeforeKiB: number | null;
  readonly rssAfterKiB: number | null;
}

/** VmRSS of this process in KiB, or null. */
export function residentKiB(): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

const loaded = new Map<string, Addon>();

function load(path: string): Addon {
  let addon = loaded.get(path);
  if (addon === undefined) {
    const module = { exports: {} as Partial<Addon> };
    process.dlopen(module, path);
    if (typeof module.exports.releaseStartupPages !== 'function') throw new Error(`${path} has no releaseStartupPages()`);
    addon = module.exports as Addon;
    loaded.set(path, addon);
  }
  return addon;
}

/** Release now. Throws (the addon cannot be loaded, /proc/self/smaps cannot be read, madvise failed). */
export function releaseStartupPages(addonPath: string = BUNDLED_ADDON): Release {
  const addon = load(addonPath);
  const rssBeforeKiB = residentKiB();
  const outcome = addon.releaseStartupPages();
  return { ...outcome, rssBeforeKiB, rssAfterKiB: residentKiB() };
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);

/** The log line of a release. */
export function describeRelease(r: Release): string {
  const rss = r.rssBeforeKiB !== null && r.rssAfterKiB !== null ? `, the process ${mib(r.rssBeforeKiB)} -> ${mib(r.rssAfterKiB)} MiB` : '';
  return (
    `released the start-up pages of ${process.execPath}: unmapped its ${mib(r.releasedKiB)} MiB resident${rss}; ` +
    'the pages still in use come back from the page cache, the ones only start-up used stay out'
  );
}

export interface PageReleaseOptions {
  readonly log: Logger;
  /** True once every enabled service has had a check (a new one has none yet). */
  readonly settled: () => boolean;
  /** Release anyway this long after arming (checks with long intervals do not hold it back). */
  readonly maxWaitMs?: number;
  readonly pollMs?: number;
  readonly addonPath?: string;
}

/**
 * Arms a release for when the checks have settled: at start-up, and after a reload that adds or
 * changes services (their new threads read start-up pages again). Polls with an unref'd timer; a failure is logged
 * once as a warning and the daemon goes on with the pages mapped.
 */
export class PageRelease {
  #timer: NodeJS.Timeout | null = null;
  #failed = false;
  readonly #opts: PageReleaseOptions;

  constructor(opts: PageReleaseOptions) {
    this.#opts = opts;
  }

  arm(): void {
    if (this.#failed) return;
    this.close();
    const deadline = monotonicMs() + (this.#opts.maxWaitMs ?? 30_000);
    const poll = (): void => {
      if (!this.#opts.settled() && monotonicMs() < deadline) {
        this.#timer = setTimeout(poll, this.#opts.pollMs ?? 500).unref();
        return;
      }
      this.#timer = null;
      this.#release();
    };
    this.#timer = setTimeout(poll, this.#opts.pollMs ?? 500).unref();
  }

  #release(): void {
    try {
      this.#opts.log.info(describeRelease(releaseStartupPages(this.#opts.addonPath)));
    } catch (error) {
      this.#failed = true;
      this.#opts.log.warning(
        `cannot release the start-up pages of ${process.execPath}: ${(error as Error).message}; ` +
          'running with them mapped (about 25 MiB more resident); set release_startup_pages = false to skip this',
      );
    }
  }

  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
