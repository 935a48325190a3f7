// The reconciler's side of the daemon's status reply: `daemon.bird[]`, one entry per family,
// saying what is in the BIRD file, what BIRD is known to have applied, whether a step is still
// pending and the last error. Read with the documented wire format (status protocol version 1),
// like status-client.ts, so the tests check the daemon rather than its own types.
import { pollUntil } from './poll.js';
import { StatusClientError, StatusConnection } from './status-client.js';

export interface BirdFamilyView {
  readonly family: 4 | 6;
  readonly path: string;
  readonly variable: string;
  readonly reconfigureCommand: string;
  /** In the file now (dummy included). */
  readonly prefixes: readonly string[];
  /** What BIRD applied at the last successful reconfigure; null when none succeeded since start. */
  readonly applied: readonly string[] | null;
  readonly reconfigureRuns: number;
  readonly reconfigureFailures: number;
  readonly pending: boolean;
  readonly lastApplied: string | null;
  readonly lastError: string | null;
}

export interface ServiceChecks {
  readonly name: string;
  readonly checks: number;
  readonly state: 'up' | 'down' | 'unknown';
}

export interface ReconcilerView {
  readonly bird: readonly BirdFamilyView[];
  readonly services: readonly ServiceChecks[];
}

/** One status request, reduced to the reconciler's entries and the services' check counts. */
export async function reconcilerStatus(connection: StatusConnection, timeoutMs?: number): Promise<ReconcilerView> {
  const reply = await connection.request({ command: 'status' }, timeoutMs);
  const daemon = reply.daemon as { bird?: unknown } | undefined;
  if (reply.ok !== true || daemon === undefined || !Array.isArray(daemon.bird) || !Array.isArray(reply.services)) {
    throw new StatusClientError(`status reply without daemon.bird[] and services[]: ${JSON.stringify(reply)}`);
  }
  return { bird: daemon.bird as BirdFamilyView[], services: reply.services as ServiceChecks[] };
}

/** The entry of `family`; throws when the daemon does not report it. */
export function birdOf(view: ReconcilerView, family: 4 | 6): BirdFamilyView {
  const found = view.bird.find((b) => b.family === family);
  if (found === undefined) throw new StatusClientError(`status has no daemon.bird entry for IPv${family}: ${JSON.stringify(view.bird)}`);
  return found;
}

/** Sum of the services' `checks` counters (grows while the check loops keep running). */
export function totalChecks(view: ReconcilerView): number {
  return view.services.reduce((sum, s) => sum + s.checks, 0);
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((p) => b.includes(p));

/** Converged: nothing pending, no error, and BIRD applied exactly what the file lists. */
export function isConverged(entry: BirdFamilyView): boolean {
  return !entry.pending && entry.lastError === null && entry.applied !== null && sameSet(entry.applied, entry.prefixes);
}

/** Settled: nothing pending, no error, and whatever BIRD is known to have applied equals the file. */
export function isSettled(entry: BirdFamilyView): boolean {
  return !entry.pending && entry.lastError === null && (entry.applied === null || sameSet(entry.applied, entry.prefixes));
}

/** Poll the status until `family` satisfies `accept`; resolves to that entry. */
export async function waitForBird(
  connection: StatusConnection,
  family: 4 | 6,
  accept: (entry: BirdFamilyView) => boolean,
  what: string,
  timeoutMs: number,
): Promise<BirdFamilyView> {
  let last: BirdFamilyView | undefined;
  return pollUntil(
    async () => {
      last = birdOf(await reconcilerStatus(connection), family);
      return accept(last) ? last : undefined;
    },
    { what, timeoutMs, describe: () => JSON.stringify(last ?? null) },
  );
}

/**
 * Status reads that survive a busy daemon: a request that times out closes its connection
 * (StatusConnection fails every later request on it), so the next read opens a new one.
 */
export class ReconnectingStatus {
  #connection: StatusConnection | undefined;

  constructor(
    readonly path: string,
    private readonly requestTimeoutMs = 5_000,
  ) {}

  async view(): Promise<ReconcilerView> {
    this.#connection ??= await StatusConnection.open(this.path);
    const connection = this.#connection;
    try {
      return await reconcilerStatus(connection, this.requestTimeoutMs);
    } catch (error) {
      connection.close();
      if (this.#connection === connection) this.#connection = undefined;
      throw error;
    }
  }

  close(): void {
    this.#connection?.close();
    this.#connection = undefined;
  }
}
