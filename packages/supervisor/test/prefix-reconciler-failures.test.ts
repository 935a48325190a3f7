import { afterEach, describe, expect, it, vi } from 'vitest';
import { APPLIED, DUMMY, FILE, FakeBird, bench, failed, verified } from './reconciler-fixture';
import { DNS, E, I, RECONFIGURED, RECONFIGURING, SERVICES, UPDATED, W, WEB, item } from './reconciler-fixture';

// Records as in docs/log-records.md ("The queue"); the failure records are this daemon's own.
const CUSTOM = '/usr/local/bin/bgp-community';
const retrying = (attempt: number, seconds: string) =>
  `${W} IPv4 BIRD configuration is not applied yet (attempt ${attempt} failed); retrying in ${seconds}s`;

afterEach(() => {
  vi.useRealTimers();
});

describe('PrefixReconciler with custom_bird_reconfigure_cmd', () => {
  it('runs the global command that an earlier failed step owes, even when this step changes only a custom service', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.decide('dns', 'up');
    await b.converge();
    // dns goes DOWN and BIRD refuses: BIRD still advertises dns
    b.bird.reconfigures = [failed('birdc: cannot connect to the control socket')];
    b.decide('dns', 'down');
    await vi.advanceTimersByTimeAsync(100); // the step runs (after its gathering) and fails
    expect(b.bird.calls.slice(-2)).toEqual([`write ${DUMMY}`, 'reconfigure']);
    expect(b.reconciler.snapshot()).toMatchObject({ pending: true, applied: [DUMMY, DNS] });
    // before the retry, a custom-command service changes: its own command alone would not do
    b.decide('web', 'up', CUSTOM);
    await b.converge();
    expect(b.bird.calls.slice(-2)).toEqual(['reconfigure', 'custom web up']);
    expect(b.reconciler.snapshot()).toMatchObject({ pending: false, lastError: null, applied: [DUMMY, WEB] });
  });

  it('keeps one custom action per service, the newest: a failed up is not run again after a later down', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.customs = [{ ...failed('exited with code 3'), output: '' }];
    b.decide('web', 'up', CUSTOM);
    await b.settle();
    b.bird.customs = [{ ...failed('exited with code 3'), output: '' }];
    b.decide('web', 'down', CUSTOM);
    await b.converge();
    const customs = b.bird.calls.filter((c) => c.startsWith('custom'));
    // the last word BIRD's hook heard is the decided state
    expect(customs.at(-1)).toBe('custom web down');
    expect(customs.filter((c) => c === 'custom web up')).toHaveLength(1);
    expect(b.reconciler.snapshot()).toMatchObject({ pending: false, lastError: null });
  });

  it("tells the service's own command instead of running the global one when only its prefix changes", async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.decide('web', 'up', CUSTOM);
    await b.converge();
    expect(b.bird.calls.filter((c) => c !== 'read')).toEqual([`write ${DUMMY},${WEB}`, 'custom web up']);
    expect(b.take()).toEqual([
      item('web', WEB, 'add to'),
      `${I} announcing ${WEB} for web`,
      UPDATED,
      `${I} reconfiguring BIRD by running custom command ${CUSTOM} up`,
      `${I} custom command successfully reconfigured Bird`,
    ]);
    expect(b.reconciler.snapshot()).toMatchObject({ applied: [DUMMY, WEB], reconfigureRuns: 0, pending: false });
  });

  it('runs the global command too when another prefix changes in the same step', async () => {
    const b = bench({ services: SERVICES, bird: new FakeBird([DUMMY, DNS]) });
    await b.reconciler.start(); // both decisions come before the step takes the queue: one step serves them
    b.decide('web', 'up', CUSTOM);
    b.decide('dns', 'down');
    await b.converge();
    expect(b.bird.calls.filter((c) => c !== 'read')).toEqual([`write ${DUMMY},${WEB}`, 'reconfigure', 'custom web up']);
  });

  it('re-queues a failed custom command and runs it again (with the global command, as BIRD is out of sync)', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.customs = [{ ...failed('exited with code 3; no output'), output: '' }];
    b.decide('web', 'up', CUSTOM);
    await b.settle();
    expect(b.take().slice(-2)).toEqual([
      `${E} custom_bird_reconfigure_cmd of web failed: exited with code 3; no output`,
      retrying(1, '0.25'),
    ]);
    expect(b.reconciler.snapshot()).toMatchObject({ pending: true, lastError: 'custom_bird_reconfigure_cmd failed', applied: null });
    await b.converge();
    // The file is as written, so the retry cannot tell whose change it was: the global command runs.
    expect(b.take()).toEqual([
      RECONFIGURING,
      RECONFIGURED,
      `${I} reconfiguring BIRD by running custom command ${CUSTOM} up`,
      `${I} custom command successfully reconfigured Bird`,
    ]);
    expect(b.bird.calls.filter((c) => c.startsWith('custom'))).toEqual(['custom web up', 'custom web up']);
    expect(b.reconciler.snapshot()).toMatchObject({
      pending: false,
      lastError: null,
      applied: [DUMMY, WEB],
      failures: { 'custom:exit-code': 1 },
    });
  });

  it('keeps the custom command of a step whose global reconfigure failed', async () => {
    const b = bench({ services: SERVICES, bird: new FakeBird([DUMMY, DNS]) });
    await b.reconciler.start(); // both decisions come before the step takes the queue: one step serves them
    b.bird.reconfigures = [failed('BIRD is down')];
    b.decide('web', 'up', CUSTOM);
    b.decide('dns', 'down');
    await b.settle();
    expect(b.bird.count('custom')).toBe(0);
    await b.converge();
    expect(b.bird.calls.filter((c) => c !== 'read')).toEqual([`write ${DUMMY},${WEB}`, 'reconfigure', 'reconfigure', 'custom web up']);
  });

  it('logs what the custom command printed', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.customs = [{ ...APPLIED, reason: 'exit code 0', output: 'community set' }];
    b.decide('web', 'up', CUSTOM);
    await b.converge();
    expect(b.take().at(-1)).toBe(`${I} custom command successfully reconfigured Bird: community set`);
  });
});

describe('PrefixReconciler with bird_verify_cmd', () => {
  const config = { verifyCmd: { text: 'birdc show symbols', argv: ['birdc', 'show', 'symbols'] } };

  it("checks BIRD's live set after each reconfigure", async () => {
    const b = bench({ services: SERVICES, config });
    await b.started();
    b.bird.verifies = [verified('match', 'BIRD has the 2 prefixes of the file')];
    b.decide('web', 'up');
    await b.converge();
    expect(b.bird.calls.at(-1)).toBe(`verify birdc show symbols ${DUMMY},${WEB}`);
    expect(b.take().slice(-2)).toEqual([RECONFIGURED, `${I} verified: BIRD has the 2 prefixes of the file`]);
  });

  it('retries a mismatch: reconfigure and verify again, the file unchanged', async () => {
    const b = bench({ services: SERVICES, config });
    await b.started();
    b.bird.verifies = [verified('mismatch', `BIRD lacks ${WEB}`), verified('failed', 'birdc timed out')];
    b.decide('web', 'up');
    await b.settle();
    expect(b.take().slice(-3)).toEqual([
      RECONFIGURED,
      `${E} verification of BIRD's applied configuration failed: BIRD lacks ${WEB}`,
      retrying(1, '0.25'),
    ]);
    expect(b.reconciler.snapshot()).toMatchObject({ pending: true, lastError: `BIRD lacks ${WEB}`, applied: null, reconfigureFailures: 0 });
    await vi.advanceTimersByTimeAsync(250);
    expect(b.take()).toEqual([
      RECONFIGURING,
      RECONFIGURED,
      `${E} verification of BIRD's applied configuration failed: birdc timed out`,
      retrying(2, '0.50'),
    ]);
    await b.converge();
    expect(b.take()).toEqual([RECONFIGURING, RECONFIGURED, `${I} verified: BIRD has the 2 prefixes of the file`]);
    expect(b.bird.count('write')).toBe(1);
    expect(b.reconciler.snapshot()).toMatchObject({ pending: false, lastError: null, applied: [DUMMY, WEB], reconfigureRuns: 3 });
    // counted by kind for status and metrics
    expect(b.reconciler.snapshot().failures).toEqual({ 'verify:mismatch': 1, 'verify:exit-code': 1 });
  });
});

describe('PrefixReconciler when the file fails', () => {
  it('retries a failed write, leaving BIRD alone until the file is written', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.writeErrors = [new Error('ENOSPC: no space left on device')];
    b.decide('web', 'up', CUSTOM);
    await b.settle();
    expect(b.take()).toEqual([
      item('web', WEB, 'add to'),
      `${I} announcing ${WEB} for web`,
      `${E} failed to write BIRD configuration: ENOSPC: no space left on device; the previous file is left intact`,
      retrying(1, '0.25'),
    ]);
    expect(b.bird.count('reconfigure') + b.bird.count('custom')).toBe(0);
    expect(b.reconciler.snapshot()).toMatchObject({ written: [DUMMY], lastError: 'ENOSPC: no space left on device' });
    await b.converge();
    // The retry carries no queue item: no `returned an item…` again, the custom command still runs.
    expect(b.take()).toEqual([
      UPDATED,
      `${I} reconfiguring BIRD by running custom command ${CUSTOM} up`,
      `${I} custom command successfully reconfigured Bird`,
    ]);
    expect(b.reconciler.snapshot()).toMatchObject({ written: [DUMMY, WEB], applied: [DUMMY, WEB], failures: { write: 1 } });
  });

  it('tells BIRD before the directory fsync ends; when that fsync fails, logs it and writes the file again', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    const eio =
      'cannot write /etc/bird/anycast-prefixes.conf: the new file is in place, but fsync of its directory /etc/bird failed: EIO: i/o error';
    b.bird.durableErrors = [new Error(eio)];
    b.decide('web', 'up');
    await b.settle();
    // BIRD has the new file (the reconfigure ran), but its rename might not survive a power failure.
    expect(b.take()).toEqual([
      item('web', WEB, 'add to'),
      `${I} announcing ${WEB} for web`,
      UPDATED,
      RECONFIGURING,
      RECONFIGURED,
      `${E} failed to write BIRD configuration: ${eio}; it is written again on the next try`,
      retrying(1, '0.25'),
    ]);
    expect(b.reconciler.snapshot()).toMatchObject({ pending: true, lastError: eio, failures: { write: 1 } });
    await b.converge();
    // The file already holds what is wanted; it is written (and BIRD told) again all the same.
    expect(b.take()).toEqual([UPDATED, RECONFIGURING, RECONFIGURED]);
    expect(b.bird.calls.filter((c) => c.startsWith('write') || c === 'reconfigure').slice(-4)).toEqual([
      `write ${DUMMY},${WEB}`,
      'reconfigure',
      `write ${DUMMY},${WEB}`,
      'reconfigure',
    ]);
    expect(b.reconciler.snapshot()).toMatchObject({ pending: false, lastError: null, applied: [DUMMY, WEB] });
  });

  it('retries when the file cannot be read', async () => {
    const b = bench({ services: SERVICES });
    await b.started();
    b.bird.readError = new Error('EACCES: permission denied');
    b.decide('web', 'up');
    await b.settle();
    expect(b.take()).toEqual([`${E} cannot read ${FILE}: EACCES: permission denied`, retrying(1, '0.25')]);
    b.bird.readError = null;
    await b.converge();
    // The failed step put the decision back: the retry takes it, with its records.
    expect(b.take()).toEqual([item('web', WEB, 'add to'), `${I} announcing ${WEB} for web`, UPDATED, RECONFIGURING, RECONFIGURED]);
    expect(b.reconciler.snapshot().failures).toEqual({ read: 1 });
    expect(b.bird.file?.prefixes).toEqual([DUMMY, WEB]);
  });

  it('keeps a copy in history before each write (keep_bird_changes); a failed copy does not stop the write', async () => {
    const b = bench({ services: SERVICES, config: { keepChanges: true } });
    await b.started();
    b.bird.archiveErrors = [new Error('EROFS: read-only file system')];
    b.decide('web', 'up');
    await b.converge();
    expect(b.bird.calls.filter((c) => c !== 'read')).toEqual(['archive', `write ${DUMMY},${WEB}`, 'reconfigure']);
    expect(b.take()).toEqual([
      item('web', WEB, 'add to'),
      `${I} announcing ${WEB} for web`,
      `${E} failed to keep a copy of ${FILE} in history: EROFS: read-only file system`,
      UPDATED,
      RECONFIGURING,
      RECONFIGURED,
    ]);
  });
});
