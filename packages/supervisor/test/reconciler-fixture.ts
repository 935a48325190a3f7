import { vi } from 'vitest';
import type { PrefixFileContent, ReconfigureOutcome, VerifyOutcome } from '@ahc/bird';
import type { BirdFamilyConfig, Command } from '@ahc/config';
import type { BirdIo, CustomAction, WrittenFile } from '../src/bird-io';
import { PrefixReconciler } from '../src/prefix-reconciler';
import type { DesiredPrefixes, QueueItem } from '../src/prefix-reconciler';
import { captureLogger } from '../../../test/helpers/capture-logger';

export const FILE = '/etc/bird/anycast-prefixes.conf';
export const VARIABLE = 'ACAST_PS_ADVERTISE';
export const DUMMY = '10.189.200.255/32';

export function birdConfig(over: Partial<BirdFamilyConfig> = {}): BirdFamilyConfig {
  return {
    family: 4,
    path: FILE,
    variable: VARIABLE,
    dummy: DUMMY,
    reconfigureCmd: { text: 'birdc configure', argv: ['birdc', 'configure'] },
    keepChanges: false,
    changesCounter: 128,
    verifyCmd: null,
    ...over,
  };
}

const RESULT = { code: 0, signal: null, timedOut: false, spawnError: null, stdout: '', stderr: '', truncated: false, durationMs: 3 };

export const APPLIED: ReconfigureOutcome = {
  status: 'applied',
  kind: 'applied',
  reason: 'Reconfigured',
  output: 'Reconfigured',
  durationMs: 3,
  result: RESULT,
};
export function failed(reason: string): ReconfigureOutcome {
  return { status: 'failed', kind: 'exit-code', reason, output: '', durationMs: 5, result: { ...RESULT, code: 1 } };
}
export function verified(status: VerifyOutcome['status'], reason: string): VerifyOutcome {
  return {
    status,
    kind: status === 'match' ? 'match' : status === 'mismatch' ? 'mismatch' : 'exit-code',
    reason,
    live: [],
    missing: [],
    extra: [],
  };
}

interface Gate<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}
export function gate<T>(): Gate<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * BIRD and its file in memory. Outcomes are taken from the scripts in order (applied / match /
 * success when a script is empty); a gate in a script holds that call until the test opens it.
 */
export class FakeBird implements BirdIo {
  file: PrefixFileContent | null;
  stale: readonly string[] = [];
  readError: Error | null = null;
  writeErrors: Error[] = [];
  archiveErrors: Error[] = [];
  reconfigures: Array<ReconfigureOutcome | Promise<ReconfigureOutcome>> = [];
  customs: ReconfigureOutcome[] = [];
  verifies: VerifyOutcome[] = [];
  /** What was done, in order: `read`, `archive`, `write 10.0.0.1/32,…`, `reconfigure`, `custom svc up`, `verify …`. */
  readonly calls: string[] = [];

  constructor(prefixes: readonly string[] | null = [DUMMY]) {
    this.file = prefixes === null ? null : { variable: VARIABLE, prefixes };
  }

  count(kind: string): number {
    return this.calls.filter((c) => c.split(' ')[0] === kind).length;
  }

  removeStaleTempFiles(): Promise<readonly string[]> {
    return Promise.resolve(this.stale);
  }

  read(): Promise<PrefixFileContent | null> {
    this.calls.push('read');
    return this.readError === null ? Promise.resolve(this.file) : Promise.reject(this.readError);
  }

  archive(): Promise<void> {
    this.calls.push('archive');
    const error = this.archiveErrors.shift();
    return error === undefined ? Promise.resolve() : Promise.reject(error);
  }

  /** Errors the writes' background directory fsync settle with, in order (null: durable). */
  durableErrors: Array<Error | null> = [];

  write(prefixes: readonly string[]): Promise<WrittenFile> {
    this.calls.push(`write ${prefixes.join(',')}`);
    const error = this.writeErrors.shift();
    if (error !== undefined) return Promise.reject(error);
    this.file = { variable: VARIABLE, prefixes: [...prefixes] };
    return Promise.resolve({ durable: Promise.resolve(this.durableErrors.shift() ?? null) });
  }

  reconfigure(): Promise<ReconfigureOutcome> {
    this.calls.push('reconfigure');
    return Promise.resolve(this.reconfigures.shift() ?? APPLIED);
  }

  /** BIRD still applying an earlier reconfigure: `settle` waits for this gate (set by a test). */
  settling: Promise<void> | null = null;

  get applying(): boolean {
    return this.settling !== null;
  }

  settle(): Promise<void> {
    if (this.settling === null) return Promise.resolve();
    this.calls.push('settle');
    return this.settling.then(() => {
      this.settling = null;
    });
  }

  custom(action: CustomAction): Promise<ReconfigureOutcome> {
    this.calls.push(`custom ${action.service} ${action.direction}`);
    return Promise.resolve(this.customs.shift() ?? { ...APPLIED, reason: 'exit code 0', output: '' });
  }

  verify(command: Command, prefixes: readonly string[]): Promise<VerifyOutcome> {
    this.calls.push(`verify ${command.text} ${prefixes.join(',')}`);
    return Promise.resolve(this.verifies.shift() ?? verified('match', `BIRD has the ${prefixes.length} prefixes of the file`));
  }
}

/** The registry as a reconciler sees it: services with a prefix and whether they are advertised. */
export class FakeServices implements DesiredPrefixes {
  readonly services = new Map<string, { prefix: string; advertise: boolean }>();

  constructor(services: Record<string, string>) {
    for (const [name, prefix] of Object.entries(services)) this.services.set(name, { prefix, advertise: false });
  }

  set(name: string, advertise: boolean): void {
    const s = this.services.get(name);
    if (s !== undefined) s.advertise = advertise;
  }

  desired(): Set<string> {
    return new Set([...this.services.values()].filter((s) => s.advertise).map((s) => s.prefix));
  }

  configured(): Set<string> {
    return new Set([...this.services.values()].map((s) => s.prefix));
  }

  prefixesOf(service: string): readonly string[] {
    const s = this.services.get(service);
    return s === undefined ? [] : [s.prefix];
  }

  adoptStartupFile(_family: 4 | 6, prefixesInFile: ReadonlySet<string>): void {
    for (const s of this.services.values()) s.advertise = prefixesInFile.has(s.prefix);
  }
}

/** A text log line without its time and pid: `LEVEL THREAD message`. */
function record(line: string): string {
  const m = /^\S+ \S+ [^[]+\[\d+\] (\w+) +(\S+) (.*)$/s.exec(line.replace(/\n$/, ''));
  return m === null ? line : `${m[1]} ${m[2]} ${m[3]}`;
}

export interface Bench {
  readonly reconciler: PrefixReconciler;
  readonly bird: FakeBird;
  readonly services: FakeServices;
  /** Log records since the last call. */
  take(): string[];
  /** A service decided: the registry changes, then the queue item (and its custom command) is requested. */
  decide(service: string, state: 'up' | 'down', custom?: string): void;
  /** Let every step that can run now run (fake time does not move). */
  settle(): Promise<void>;
  /** Run the timers (gathering, backoff) until the reconciler is idle. */
  converge(): Promise<void>;
  /** start(), then a second later on the fake clock (so the next decision is a lone one), its records taken. */
  started(): Promise<string[]>;
}

/** A reconciler on a fake clock (vi.useFakeTimers) with a fake BIRD and registry. */
export function bench(options: {
  services: Record<string, string>;
  bird?: FakeBird;
  purge?: boolean;
  config?: Partial<BirdFamilyConfig>;
}): Bench {
  vi.useFakeTimers();
  const { log, lines } = captureLogger({ level: 'info' });
  const bird = options.bird ?? new FakeBird();
  const services = new FakeServices(options.services);
  const reconciler = new PrefixReconciler(birdConfig(options.config), services, bird, log, {
    purge: options.purge ?? false,
    now: () => Date.now(),
  });
  return {
    reconciler,
    bird,
    services,
    take: () => lines.splice(0).map(record),
    decide(service, state, custom) {
      services.set(service, state === 'up');
      const prefix = services.prefixesOf(service)[0] ?? '';
      const item: QueueItem = { service, prefix, action: state === 'up' ? 'add' : 'delete' };
      reconciler.request(
        item,
        custom === undefined
          ? undefined
          : { service, command: { text: custom, argv: custom.split(' ') }, direction: state, timeoutMs: 1000 },
      );
    },
    settle: async () => {
      await vi.advanceTimersByTimeAsync(0);
    },
    converge: async () => {
      await vi.runAllTimersAsync();
      await reconciler.whenIdle();
    },
    async started() {
      await reconciler.start();
      await vi.advanceTimersByTimeAsync(1000);
      return lines.splice(0).map(record);
    },
  };
}

/** The services and expected record lines both prefix-reconciler test files check (docs/log-records.md, "The queue"). */
export const WEB = '10.52.12.1/32';
export const DNS = '10.52.12.2/32';
export const SERVICES = { web: WEB, dns: DNS };
export const I = 'INFO MainThread';
export const W = 'WARNING MainThread';
export const E = 'ERROR MainThread';
export const item = (service: string, prefix: string, action: 'add to' | 'delete from') =>
  `${I} returned an item from the queue for ${service} with IP prefix ${prefix} and action to ${action} Bird configuration`;
export const UPDATED = `${I} Bird configuration for IPv4 is updated`;
export const RECONFIGURING = `${I} reconfiguring BIRD by running birdc configure`;
export const RECONFIGURED = `${I} reconfigured BIRD daemon`;
