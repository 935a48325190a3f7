import { afterEach, describe, expect, it, vi } from 'vitest';
import { APPLIED, DUMMY, FILE, FakeBird, bench, failed, gate } from './reconciler-fixture';
import { DNS, E, I, RECONFIGURED, RECONFIGURING, SERVICES, UPDATED, W, WEB, item } from './reconciler-fixture';
import type { ReconfigureOutcome } from '@ahc/bird';

// The records are the Python daemon's (docs/log-records.md, "The queue" and "Start-up and stop").
const EMPTY = `${W} Bird configuration doesn't have IP prefixes for any of the services we monitor! It means local node doesn't receive any traffic`;

afterEach(() => {
  vi.useRealTimers();
});

describe('PrefixReconciler at start-up', () => {
  it('adopts the file as it is: nothing written, nothing run, nothing logged', async () => {
    const b = bench({ services: SERVICES, bird: new FakeBird([DUMMY, WEB]) });
    await b.reconciler.start();
    expect(b.services.desired()).toEqual(new Set([WEB]));
    expect(b.bird.calls).toEqual(['read', 'read']);
    expect(b.take()).toEqual([]);
    expect(b.reconciler.snapshot()).toMatchObject({ written: [DUMMY, WEB], applied: null, pending: false, reconfigureRuns: 0 });
  });

  it.each([
    {
      name: 'a missing file gets the variable and the dummy',
      file: null,
      purge: false,
      records: [
        `${W} failed to find variable name in ${FILE}, going to add it`,
        `${W} dummy IP prefix ${DUMMY} is missing from bird configuration ${FILE}, adding it`,
        UPDATED,
        RECONFIGURING,
        RECONFIGURED,
      ],
      written: [DUMMY],
    },
    {
      name: 'purge_ip_prefixes removes prefixes without a check',
      file: [DUMMY, '10.9.9.9/32'],
      purge: true,
      records: [
        `${W} removing IP prefix(es) 10.9.9.9/32 from ${FILE} because they don't have a service check configured`,
        UPDATED,
        RECONFIGURING,
        RECONFIGURED,
      ],
      written: [DUMMY],
    },
    {
      name: 'without purge, prefixes without a check are reported and kept',
      file: [DUMMY, '10.9.9.9/32'],
      purge: false,
      records: [`${W} found IP prefixes 10.9.9.9/32 in ${FILE} without a service check configured`],
      written: [DUMMY, '10.9.9.9/32'],
    },
  ])('repairs: $name', async ({ file, purge, records, written }) => {
    const b = bench({ services: SERVICES, bird: new FakeBird(file), purge });
    await b.reconciler.start();
    expect(b.take()).toEqual(records);
    expect(b.reconciler.snapshot().written).toEqual(written);
    expect(b.reconciler.pending).toBe(false);
  });

  it('warns about temp files an interrupted daemon left', async () => {
    const bird = new FakeBird();
    bird.stale = ['/etc/bird/.anycast-prefixes.conf.1.tmp'];
    const b = bench({ services: SERVICES, bird });
    await b.reconciler.start();
    expect(b.take()).toEqual([
      `${W} removed 1 temp file(s) an earlier, interrupted daemon left beside ${FILE}: /etc/bird/.anycast-prefixes.conf.1.tmp`,
    ]);
  });

  it('keeps prefixes without a check through steps without a decision, until the first decision', async () => {
    const b = bench({ services: SERVICES, bird: new FakeBird([DUMMY, '10.9.9.9/32']) });
    await b.started();
    b.reconciler.request(); // a reload, a retry: no queue item
    await b.converge();
    expect(b.bird.file?.prefixes).toEqual([DUMMY, '10.9.9.9/32']);
    expect(b.take()).toEqual([]);
    b.decide('web', 'up');
    await b.converge();
    expect(b.bird.file?.prefixes).toEqual([DUMMY, WEB]);
    expect(b.take()).toEqual([
      item('web', WEB, 'add to'),
      `${W} found 10.9.9.9/32 IP prefixes in Bird configuration but we aren't configured to run health checks on them. Either someone modified the configuration manually or something went horrible wrong. We remove them from Bird configuration`,
      `${I} announcing ${WEB} for web`,
      UPDATED,
      RECONFIGURING,
      RECONFIGURED,
    ]);
  });

  it('returns after the first attempt when BIRD is down; the retry goes on', async () => {
    const bird = new FakeBird(null);
    bird.reconfigures = [failed('cannot reach BIRD; is it running?')];
    const b = bench({ services: SERVICES, bird });
    await b.reconciler.start();
    expect(b.reconciler.pending).toBe(true);
    expect(b.take().slice(-3)).toEqual([
      RECONFIGURING,
      `${E} reconfiguring BIRD failed: cannot reach BIRD; is it running?`,
      `${W} IPv4 BIRD configuration is not applied yet (attempt 1 failed); retrying in 0.25s`,
    ]);
    await b.settle();
    expect(b.bird.count('reconfigure')).toBe(1);
    await vi.advanceTimersByTimeAsync(250);
    await b.converge();
    expect(b.bird.count('reconfigure')).toBe(2);
    expect(b.take()).toEqual([RECONFIGURING, RECONFIGURED]);
  });
});

describe('PrefixReconciler decisions', () => {
  it.each([
    {
      name: 'an UP that changes the file',
      start: [DUMMY],
      decide: [['web', 'up']] as const,
      records: [item('web', WEB, 'add to'), `${I} announcing ${WEB} for web`, UPDATED, RECONFIGURING, RECONFIGURED],
      file: [DUMMY, WEB],
      reconfigures: 1,
    },
    {
      name: 'an UP already in the file',
      start: [DUMMY, WEB],
      decide: [['web', 'up']] as const,
      records: [item('web', WEB, 'add to'), `${I} no updates for bird configuration`],
      file: [DUMMY, WEB],
      reconfigures: 0,
    },
    {
      name: 'the last DOWN leaves only the dummy',
      start: [DUMMY, WEB],
      decide: [['web', 'down']] as const,
      records: [item('web', WEB, 'delete from'), `${I} withdrawing ${WEB} for web`, UPDATED, EMPTY, RECONFIGURING, RECONFIGURED],
      file: [DUMMY],
      reconfigures: 1,
    },
    {
      name: 'a DOWN while another is still advertised',
      start: [DUMMY, WEB, DNS],
      decide: [['web', 'down']] as const,
      records: [item('web', WEB, 'delete from'), `${I} withdrawing ${WEB} for web`, UPDATED, RECONFIGURING, RECONFIGURED],
      file: [DUMMY, DNS],
      reconfigures: 1,
    },
  ])('$name', async ({ start, decide, records, file, reconfigures }) => {
    const b = bench({ services: SERVICES, bird: new FakeBird(start) });
    await b.started();
    for (const [name, state] of decide) b.decide(name, state);
    await b.converge();
    expect(b.take()).toEqual(records);
    expect(b.bird.file?.prefixes).toEqual(file);
    expect(b.bird.count('reconfigure')).toBe(reconfigures);
    expect(b.reconciler.snapshot()).toMatchObject({ written: file, pending: false, lastError: null, reconfigureRuns: reconfigures });
  });

  it('serves the decisions that come during an in-flight reconfigure with one more write and reconfigure', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    const held = gate<ReconfigureOutcome>();
    b.bird.reconfigures = [held.promise];
    b.decide('web', 'up');
    await b.settle();
    expect(b.bird.count('reconfigure')).toBe(1);
    b.decide('dns', 'up');
    b.decide('web', 'down');
    await b.settle();
    expect(b.bird.count('write')).toBe(1); // nothing runs beside the reconfigure in flight
    held.resolve(APPLIED);
    await b.converge();
    expect(b.bird.calls.filter((c) => c !== 'read')).toEqual([
      `write ${DUMMY},${WEB}`,
      'reconfigure',
      `write ${DUMMY},${DNS}`,
      'reconfigure',
    ]);
    expect(b.take()).toEqual([
      item('web', WEB, 'add to'),
      `${I} announcing ${WEB} for web`,
      UPDATED,
      RECONFIGURING,
      RECONFIGURED,
      item('dns', DNS, 'add to'),
      `${I} announcing ${DNS} for dns`,
      item('web', WEB, 'delete from'),
      `${I} withdrawing ${WEB} for web`,
      UPDATED,
      RECONFIGURING,
      RECONFIGURED,
    ]);
    expect(b.reconciler.snapshot().applied).toEqual([DUMMY, DNS]);
  });

  it('waits while BIRD still applies the last reconfigure, then serves what came meanwhile with one write and reconfigure', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    const held = gate<undefined>();
    b.bird.settling = held.promise;
    const from = b.bird.calls.length;
    b.decide('web', 'up');
    await b.settle();
    expect(b.reconciler.snapshot()).toMatchObject({ applying: true, pending: true });
    b.decide('dns', 'up');
    await b.settle();
    expect(b.bird.calls.slice(from)).toEqual(['settle']); // nothing read, written or run while BIRD is busy
    held.resolve(undefined);
    await b.converge();
    // (The request that came during the wait gets a step of its own, which finds nothing to do.)
    expect(b.bird.calls.slice(from).filter((c) => c !== 'read')).toEqual(['settle', `write ${DUMMY},${WEB},${DNS}`, 'reconfigure']);
    expect(b.reconciler.snapshot()).toMatchObject({ applying: false, pending: false, applied: [DUMMY, WEB, DNS] });
  });

  it('stops waiting for BIRD at close, and leaves the file and BIRD alone', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.settling = new Promise<void>(() => undefined); // BIRD never says it is done
    const from = b.bird.calls.length;
    b.decide('web', 'up');
    await b.settle();
    await b.reconciler.close();
    await b.settle();
    expect(b.bird.calls.slice(from)).toEqual(['settle']);
  });

  it('applies the first decision after the start-up repair at once: the repair is no decision of a burst', async () => {
    const b = bench({ services: SERVICES, bird: new FakeBird(null) });
    await b.reconciler.start(); // the missing file is written and BIRD reconfigured
    expect(b.bird.count('reconfigure')).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    b.decide('web', 'up'); // 10 ms later: held 40 ms as a burst's first, were the repair counted
    await b.settle();
    expect(b.bird.count('reconfigure')).toBe(2);
    expect(b.bird.calls.filter((c) => c.startsWith('write')).at(-1)).toBe(`write ${DUMMY},${WEB}`);
  });

  it('gathers a burst until it goes quiet for 40 ms (docs/design.md, "BIRD file and reconfiguration")', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.decide('web', 'up');
    await b.settle();
    expect(b.bird.count('reconfigure')).toBe(1); // lone: at once
    await vi.advanceTimersByTimeAsync(10);
    b.decide('dns', 'up'); // 10 ms after the last: a burst
    await vi.advanceTimersByTimeAsync(39);
    expect(b.bird.count('reconfigure')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await b.converge();
    expect(b.bird.count('reconfigure')).toBe(2);
  });

  it('after a slow reconfigure (a router-sized BIRD), even the first decision of a wave is gathered: one reconfigure for the wave', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.reconfigures = [new Promise<ReconfigureOutcome>((resolve) => setTimeout(() => resolve(APPLIED), 160))];
    b.decide('web', 'up');
    await b.settle();
    expect(b.bird.count('reconfigure')).toBe(1); // lone after fast steps: at once
    await vi.advanceTimersByTimeAsync(160);
    await b.converge();
    await vi.advanceTimersByTimeAsync(1000);
    b.decide('web', 'down'); // alone and a second after the last one, but the last step took 160 ms
    await b.settle();
    expect(b.bird.count('reconfigure')).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    b.decide('dns', 'up');
    await vi.advanceTimersByTimeAsync(39);
    expect(b.bird.count('reconfigure')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await b.converge();
    expect(b.bird.count('reconfigure')).toBe(2);
    expect(b.reconciler.snapshot().written).toEqual([DUMMY, DNS]);
  });

  it.each([
    { name: 'fails', outcome: failed('exit code 1; output: "syntax error"'), error: 'exit code 1; output: "syntax error"' },
    {
      name: 'times out',
      outcome: failed('timed out after 30s; its process group was killed'),
      error: 'timed out after 30s; its process group was killed',
    },
  ])('a reconfigure that $name is retried with backoff, without rewriting the file, until BIRD applies it', async ({ outcome, error }) => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.reconfigures = [outcome, outcome];
    b.decide('web', 'up');
    await b.settle();
    expect(b.take()).toEqual([
      item('web', WEB, 'add to'),
      `${I} announcing ${WEB} for web`,
      UPDATED,
      RECONFIGURING,
      `${E} reconfiguring BIRD failed: ${error}`,
      `${W} IPv4 BIRD configuration is not applied yet (attempt 1 failed); retrying in 0.25s`,
    ]);
    expect(b.reconciler.snapshot()).toMatchObject({
      pending: true,
      lastError: error,
      reconfigureRuns: 1,
      reconfigureFailures: 1,
      applied: null,
    });
    await vi.advanceTimersByTimeAsync(250);
    expect(b.take()).toEqual([
      RECONFIGURING,
      `${E} reconfiguring BIRD failed: ${error}`,
      `${W} IPv4 BIRD configuration is not applied yet (attempt 2 failed); retrying in 0.50s`,
    ]);
    await vi.advanceTimersByTimeAsync(500);
    await b.converge();
    // Out of sync after a failure: the unchanged file is reconfigured again, never rewritten.
    expect(b.take()).toEqual([RECONFIGURING, RECONFIGURED]);
    expect(b.bird.count('write')).toBe(1);
    expect(b.reconciler.snapshot()).toMatchObject({
      pending: false,
      lastError: null,
      reconfigureRuns: 3,
      reconfigureFailures: 2,
      applied: [DUMMY, WEB],
    });
  });

  it('a decision during the backoff is applied at once, and the failed reconfigure is not forgotten', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.reconfigures = [failed('BIRD is down')];
    b.decide('web', 'up');
    await b.settle();
    b.take();
    b.decide('web', 'up'); // the same decision again: the file does not change, BIRD still has to apply it
    await b.converge();
    expect(b.take()).toEqual([item('web', WEB, 'add to'), RECONFIGURING, RECONFIGURED]);
  });

  it('says BIRD applies in the background for BIRD 3\'s "Reconfiguration in progress"', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.reconfigures = [{ ...APPLIED, status: 'in-progress', reason: 'Reconfiguration in progress' }];
    b.decide('web', 'up');
    await b.converge();
    expect(b.take().slice(-2)).toEqual([
      RECONFIGURING,
      `${I} BIRD accepted the configuration and applies it in the background (Reconfiguration in progress)`,
    ]);
    expect(b.reconciler.snapshot().applied).toEqual([DUMMY, WEB]);
  });
});
