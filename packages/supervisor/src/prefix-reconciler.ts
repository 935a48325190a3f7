import type { Family } from '@ahc/protocol';
import { planStartupRepair, planUpdate } from '@ahc/bird';
import type { PrefixFileContent, PrefixFilePlan, ReconfigureFailureKind, VerifyKind } from '@ahc/bird';
import type { BirdFamilyConfig } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import { RECONFIGURE_BACKOFF } from './backoff';
import type { BirdIo, CustomAction, WrittenFile } from './bird-io';
import { ConvergeLoop } from './converge-loop';
import { RECONFIGURE_GATHER } from './gather';

export type { CustomAction } from './bird-io';

/** One decision in the queue: what the Python daemon's queue item is (docs/log-records.md). */
export interface QueueItem {
  readonly service: string;
  readonly prefix: string;
  readonly action: 'add' | 'delete';
}

/** What a reconciler asks of the service registry (ServiceRegistry implements it). */
export interface DesiredPrefixes {
  /** The prefixes that belong in the family's file now (the dummy aside). */
  desired(family: Family): Set<string>;
  configured(family: Family): Set<string>;
  prefixesOf(service: string): readonly string[];
  /** Start-up: services are advertised as the file has them, until they decide. */
  adoptStartupFile(family: Family, prefixesInFile: ReadonlySet<string>): void;
}

/** What a reconciler knows of its file and of BIRD: plain data, for the status reply and metrics. */
export interface ReconcilerSnapshot {
  readonly bird: BirdFamilyConfig;
  /** The prefixes it last read from or wrote to the file (dummy first); null before the first read. */
  readonly written: readonly string[] | null;
  /** The prefixes BIRD is known to have applied (after the last successful reconfigure), or null. */
  readonly applied: readonly string[] | null;
  readonly pending: boolean;
  /** BIRD answered that it applies the last reconfigure in the background and has not said it is done. */
  readonly applying: boolean;
  readonly lastApplied: Date | null;
  readonly lastError: string | null;
  readonly reconfigureRuns: number;
  readonly reconfigureFailures: number;
  readonly lastReconfigureMs: number | null;
  /** Failed steps by kind since start (`reconfigure:timed-out`, `verify:mismatch`, `write`, …). */
  readonly failures: Readonly<Record<string, number>>;
}

/**
 * Why a step failed, for status and metrics to count: the file could not be read or written,
 * or the reconfigure, the verification or a custom command failed (with the outcome's kind).
 */
export type StepFailureKind =
  | 'read'
  | 'write'
  | `reconfigure:${ReconfigureFailureKind}`
  | `verify:${Exclude<VerifyKind, 'match'>}`
  | `custom:${ReconfigureFailureKind}`;

export interface ReconcilerOptions {
  readonly purge: boolean;
  /** Monotonic clock in milliseconds for the converge loop (tests pass a fake one). */
  readonly now?: () => number;
}

/**
 * Converges one family's BIRD file and BIRD's applied configuration on the desired prefix set:
 * the main thread's only writer of that file. Transitions call `request()`; requests during a
 * write/reconfigure are merged into the next step, a burst of them is gathered until it goes quiet
 * (gather.ts); failures are retried with backoff.
 */
export class PrefixReconciler {
  readonly #loop: ConvergeLoop;
  /** False while BIRD may not have applied the file as written (a reconfigure failed). */
  #inSync = true;
  /** The last write's rename may not be on disk (its directory's fsync failed): write again. */
  #rewriteOwed = false;
  readonly #failures = new Map<StepFailureKind, number>();
  /** Prefixes without a check kept at startup (purge_ip_prefixes = false) until the first update. */
  #keepUnknown = new Set<string>();
  #custom: CustomAction[] = [];
  /** Decisions not yet served by a step (each is logged as it is taken from the queue). */
  #items: QueueItem[] = [];
  #written: readonly string[] | null = null;
  #lastError: string | null = null;
  #lastApplied: Date | null = null;
  #applied: readonly string[] | null = null;
  #reconfigureRuns = 0;
  #lastReconfigureMs: number | null = null;
  #reconfigureFailures = 0;
  /** Resolves at close(): a step waiting for BIRD stops waiting. */
  readonly #closing: Promise<void>;
  #closed: () => void = () => undefined;

  constructor(
    readonly bird: BirdFamilyConfig,
    private readonly registry: DesiredPrefixes,
    private readonly io: BirdIo,
    private readonly log: Logger,
    private readonly options: ReconcilerOptions,
  ) {
    this.#closing = new Promise((resolve) => {
      this.#closed = resolve;
    });
    this.#loop = new ConvergeLoop(() => this.#step(), RECONFIGURE_BACKOFF, {
      gather: RECONFIGURE_GATHER,
      ...(options.now === undefined ? {} : { now: options.now }),
      onRetry: (failures, delay) => {
        this.log.warning(
          `IPv${bird.family} BIRD configuration is not applied yet (attempt ${failures} failed); retrying in ${(delay / 1000).toFixed(2)}s`,
        );
      },
    });
  }

  get pending(): boolean {
    return this.#loop.state !== 'idle';
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  snapshot(): ReconcilerSnapshot {
    return {
      bird: this.bird,
      written: this.#written,
      applied: this.#applied,
      pending: this.pending,
      applying: this.io.applying,
      lastApplied: this.#lastApplied,
      lastError: this.#lastError,
      reconfigureRuns: this.#reconfigureRuns,
      reconfigureFailures: this.#reconfigureFailures,
      lastReconfigureMs: this.#lastReconfigureMs,
      failures: Object.fromEntries(this.#failures),
    };
  }

  /** Put back custom actions a failed step did not get done, unless a newer one for the same service came meanwhile. */
  #requeueCustom(actions: readonly CustomAction[]): void {
    const newer = new Set(this.#custom.map((a) => a.service));
    this.#custom = [...actions.filter((a) => !newer.has(a.service)), ...this.#custom];
  }

  #failed(kind: StepFailureKind): false {
    this.#failures.set(kind, (this.#failures.get(kind) ?? 0) + 1);
    return false;
  }

  async #read(): Promise<PrefixFileContent | null> {
    const content = await this.io.read();
    this.#written = content === null ? [] : content.prefixes;
    return content;
  }

  /**
   * Start-up (docs/log-records.md, "Start-up and stop"): repair variable name and dummy, purge
   * or report prefixes without a check, and mark the services whose prefix is in the file as
   * advertised until their checks decide. Returns after the first write/reconfigure attempt;
   * failures keep retrying.
   */
  async start(): Promise<void> {
    const stale = await this.io.removeStaleTempFiles();
    if (stale.length > 0)
      this.log.warning(
        `removed ${stale.length} temp file(s) an earlier, interrupted daemon left beside ${this.bird.path}: ${stale.join(', ')}`,
      );
    const configured = this.registry.configured(this.bird.family);
    let current: PrefixFileContent | null;
    try {
      current = await this.#read();
    } catch (error) {
      throw new Error(`cannot read BIRD configuration ${this.bird.path}: ${(error as Error).message}`);
    }
    const plan = planStartupRepair({
      file: this.bird.path,
      current,
      variable: this.bird.variable,
      dummy: this.bird.dummy,
      configured,
      purge: this.options.purge,
    });
    for (const f of plan.findings) this.log.warning(f.detail);
    // Every service starts as the file has it, until its check (or on_disabled) decides.
    this.registry.adoptStartupFile(this.bird.family, new Set(plan.prefixes));
    this.#keepUnknown = new Set(plan.prefixes.filter((p) => p !== this.bird.dummy && !configured.has(p)));
    if (plan.rewrite) {
      this.#inSync = false;
      await this.#durable(await this.#write(plan, false));
    }
    // Wait for the first attempt only: with BIRD down, checks must start anyway while the
    // reconfigure is retried in the background.
    this.request();
    await this.#loop.settled();
    this.#loop.endBurst();
  }

  /**
   * Converge again: with items, because a service of this family decided (a check, or
   * on_disabled): one item per prefix of the service in this family, served by one step; without,
   * because something else changed (reload, a failed worker, a retry).
   */
  request(items?: QueueItem | readonly QueueItem[], custom?: CustomAction): void {
    if (items !== undefined) this.#items.push(...(Array.isArray(items) ? (items as readonly QueueItem[]) : [items as QueueItem]));
    // One pending custom action per service, the newest: an older up/down it replaces is moot.
    if (custom !== undefined) this.#custom = [...this.#custom.filter((a) => a.service !== custom.service), custom];
    this.#loop.request();
  }

  whenIdle(): Promise<void> {
    return this.#loop.whenIdle();
  }

  close(): Promise<void> {
    this.#closed();
    return this.#loop.close();
  }

  /** True when every prefix that changed belongs to a service with its own reconfigure command. */
  #onlyCustomChanges(current: PrefixFileContent | null, plan: PrefixFilePlan, custom: readonly CustomAction[]): boolean {
    if (custom.length === 0 || current === null || current.variable !== this.bird.variable) return false;
    const owned = new Set(custom.flatMap((c) => this.registry.prefixesOf(c.service)));
    const before = new Set(current.prefixes);
    const after = new Set(plan.prefixes);
    const changed = [...before, ...after].filter((p) => before.has(p) !== after.has(p));
    return changed.length > 0 && changed.every((p) => owned.has(p));
  }

  /**
   * `update`: a queued change (the empty-file warning belongs to those, not to start-up repair).
   * Resolves once the new file is in place; its `durable` tells when the rename is on disk.
   */
  async #write(plan: PrefixFilePlan, update: boolean): Promise<WrittenFile> {
    if (this.bird.keepChanges) {
      try {
        await this.io.archive();
      } catch (error) {
        this.log.error(`failed to keep a copy of ${this.bird.path} in history: ${(error as Error).message}`);
      }
    }
    const written = await this.io.write(plan.prefixes);
    this.#rewriteOwed = false;
    this.#written = plan.prefixes;
    this.log.info(`Bird configuration for IPv${this.bird.family} is updated`);
    if (update && plan.prefixes.length === 1) {
      this.log.warning(
        `Bird configuration doesn't have IP prefixes for any of the services we monitor! It means local node doesn't receive any traffic`,
      );
    }
    return written;
  }

  /**
   * The background fsync of the directory after a write: true when the rename is on disk. When
   * it failed, the new file is in place (BIRD has it) but might not survive a power failure:
   * logged, and the next step writes the file again.
   */
  async #durable(written: WrittenFile): Promise<boolean> {
    const error = await written.durable;
    if (error === null) return true;
    this.#rewriteOwed = true;
    this.#lastError = error.message;
    this.log.error(`failed to write BIRD configuration: ${error.message}; it is written again on the next try`);
    return false;
  }

  /**
   * The queue items this step serves, logged as the Python daemon logs each one it takes: the
   * item, then (after the first) prefixes nobody checks that are removed, then what changes for
   * it. Several items in one step share the write and the reconfigure that follow.
   */
  #logItems(items: readonly QueueItem[], current: PrefixFileContent | null, plan: PrefixFilePlan): void {
    const before = new Set(current?.prefixes ?? []);
    const after = new Set(plan.prefixes);
    const told = new Set<string>();
    items.forEach((item, i) => {
      const to = item.action === 'add' ? 'add to' : 'delete from';
      this.log.info(
        `returned an item from the queue for ${item.service} with IP prefix ${item.prefix} and action to ${to} Bird configuration`,
      );
      if (i === 0) for (const f of plan.findings) this.log.warning(f.detail);
      if (told.has(item.prefix)) return;
      if (item.action === 'add' && !before.has(item.prefix) && after.has(item.prefix)) {
        this.log.info(`announcing ${item.prefix} for ${item.service}`);
        told.add(item.prefix);
      } else if (item.action === 'delete' && before.has(item.prefix) && !after.has(item.prefix)) {
        this.log.info(`withdrawing ${item.prefix} for ${item.service}`);
        told.add(item.prefix);
      }
    });
    if (items.length === 0) for (const f of plan.findings) this.log.warning(f.detail);
  }

  /** One convergence step; false means retry later. */
  async #step(): Promise<boolean> {
    // BIRD may still be applying our previous reconfigure: wait until it is done, so that what
    // comes in meanwhile is served by this one step and its one reconfigure (docs/bird.md).
    await Promise.race([this.io.settle(), this.#closing]);
    // Stopped meanwhile: leave the file and BIRD as they are.
    if (this.#loop.state === 'closed') return true;
    // BIRD was already behind before this step (an earlier reconfigure failed): the global
    // command is owed, whatever this step changes.
    const owed = !this.#inSync;
    const items = this.#items;
    this.#items = [];
    // The first decision taken from the queue ends the start-up grace of prefixes without a check.
    if (items.length > 0) this.#keepUnknown.clear();
    const desired = this.registry.desired(this.bird.family);
    for (const p of this.#keepUnknown) desired.add(p);
    const custom = this.#custom;
    this.#custom = [];
    let current: PrefixFileContent | null;
    try {
      current = await this.#read();
    } catch (error) {
      this.#lastError = `cannot read ${this.bird.path}: ${(error as Error).message}`;
      this.log.error(this.#lastError);
      this.#requeueCustom(custom);
      // Nothing of these decisions was logged or applied yet: the retry takes them again.
      this.#items = [...items, ...this.#items];
      return this.#failed('read');
    }
    const plan = planUpdate({
      file: this.bird.path,
      current,
      variable: this.bird.variable,
      dummy: this.bird.dummy,
      desired,
      configured: this.registry.configured(this.bird.family),
    });
    this.#logItems(items, current, plan);
    // The directory's fsync of this write, awaited once BIRD has been told (it only makes the
    // rename durable; docs/design.md, "Failover latency").
    let written: WrittenFile | null = null;
    if (plan.rewrite || this.#rewriteOwed) {
      try {
        written = await this.#write(plan, true);
      } catch (error) {
        this.#lastError = (error as Error).message;
        this.log.error(`failed to write BIRD configuration: ${this.#lastError}; the previous file is left intact`);
        this.#requeueCustom(custom);
        return this.#failed('write');
      }
      this.#inSync = false;
    }
    const applied = await this.#apply(owed, current, plan, items, custom);
    if (written === null || (await this.#durable(written))) return applied;
    return applied ? this.#failed('write') : false;
  }

  /** The rest of a step, once the file is as planned: tell BIRD (or the services' own commands). */
  async #apply(
    owed: boolean,
    current: PrefixFileContent | null,
    plan: PrefixFilePlan,
    items: readonly QueueItem[],
    custom: readonly CustomAction[],
  ): Promise<boolean> {
    if (!plan.rewrite && this.#inSync && custom.length === 0) {
      // Said once per queue item the Python daemon would have taken; silent for our own steps.
      if (items.length > 0) this.log.info('no updates for bird configuration');
      return true;
    }
    // Services with their own reconfigure command are told up/down instead; the global command
    // runs when anything else changed, or when an earlier run failed.
    if (!this.#inSync && (owed || !this.#onlyCustomChanges(current, plan, custom))) {
      this.log.info(`reconfiguring BIRD by running ${this.bird.reconfigureCmd.argv.join(' ')}`);
      const outcome = await this.io.reconfigure();
      this.#reconfigureRuns += 1;
      this.#lastReconfigureMs = outcome.durationMs;
      if (outcome.status === 'failed') {
        this.#reconfigureFailures += 1;
        this.#lastError = outcome.reason;
        this.log.error(`reconfiguring BIRD failed: ${outcome.reason}`);
        this.#requeueCustom(custom);
        return this.#failed(`reconfigure:${outcome.kind as ReconfigureFailureKind}`);
      }
      this.log.info(
        outcome.status === 'applied'
          ? 'reconfigured BIRD daemon'
          : `BIRD accepted the configuration and applies it in the background (${outcome.reason})`,
      );
      if (!(await this.#verify(plan.prefixes))) {
        this.#requeueCustom(custom);
        return false;
      }
    }
    const failedCustom: CustomAction[] = [];
    let customKind: ReconfigureFailureKind | null = null;
    for (const action of custom) {
      this.log.info(`reconfiguring BIRD by running custom command ${action.command.text} ${action.direction}`);
      const outcome = await this.io.custom(action);
      if (outcome.status === 'failed') {
        this.log.error(`custom_bird_reconfigure_cmd of ${action.service} failed: ${outcome.reason}`);
        failedCustom.push(action);
        customKind ??= outcome.kind as ReconfigureFailureKind;
      } else {
        this.log.info(`custom command successfully reconfigured Bird${outcome.output === '' ? '' : `: ${outcome.output}`}`);
      }
    }
    if (failedCustom.length > 0) {
      this.#requeueCustom(failedCustom);
      this.#lastError = 'custom_bird_reconfigure_cmd failed';
      return this.#failed(`custom:${customKind ?? 'exit-code'}`);
    }
    this.#inSync = true;
    this.#lastError = null;
    this.#lastApplied = new Date();
    this.#applied = plan.prefixes;
    return true;
  }

  /** With bird_verify_cmd: BIRD's live set must equal the file's; a mismatch is retried. */
  async #verify(wanted: readonly string[]): Promise<boolean> {
    const cmd = this.bird.verifyCmd;
    if (cmd === null) return true;
    const v = await this.io.verify(cmd, wanted);
    if (v.status === 'match') {
      this.log.info(`verified: ${v.reason}`);
      return true;
    }
    this.#lastError = v.reason;
    this.log.error(`verification of BIRD's applied configuration failed: ${v.reason}`);
    return this.#failed(`verify:${v.kind as Exclude<VerifyKind, 'match'>}`);
  }
}
