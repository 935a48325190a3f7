import { describe, expect, it } from 'vitest';
import { NAGIOS, nagiosText, perfLabel, renderNagios, renderNagiosFailure, renderTable } from '../src/status-render';
import { FIXED_PERFDATA_LABELS, parsePerfdata, parsePluginLine } from '../../../test/helpers/nagios';
import type { StateFileStatus, StatusReply } from '../src/status-protocol';
import { sampleReply, sampleService } from './sample-reply';

describe('Nagios mode', () => {
  it('is OK with a one-line summary and perf data for a healthy daemon', () => {
    const r = renderNagios(sampleReply());
    expect(r.code).toBe(NAGIOS.OK);
    expect(r.line).toBe(
      'ANYCAST-HEALTHCHECKER OK - 2 check(s) running, 1 up, 1 down | services=2 running=2 failed=0 restarting=0 disabled=0 up=1 down=1 unknown=0 drained=0 restarts=0c uptime=60s loop_lag=1ms web_duration=3.2ms;;;0 dns_duration=3.2ms;;;0',
    );
  });

  it('is CRITICAL naming the services whose worker failed', () => {
    const r = renderNagios(
      sampleReply([
        sampleService('web', {
          worker: { state: 'failed', threadId: 3, lastHeartbeatAgeMs: null, restarts: 5, lastExit: 'exited with code 1' },
        }),
        sampleService('dns'),
      ]),
    );
    expect(r.code).toBe(NAGIOS.CRITICAL);
    expect(r.line).toMatch(/^ANYCAST-HEALTHCHECKER CRITICAL - 1 check worker\(s\) failed: web \| .*failed=1 .*restarts=5c/);
  });

  it('is WARNING while a worker restarts or BIRD could not be updated', () => {
    expect(
      renderNagios(
        sampleReply([
          sampleService('web', { worker: { state: 'restarting', threadId: 3, lastHeartbeatAgeMs: null, restarts: 1, lastExit: 'x' } }),
        ]),
      ).code,
    ).toBe(NAGIOS.WARNING);
    const reply = sampleReply();
    const stale = { ...reply, daemon: { ...reply.daemon, bird: [{ ...reply.daemon.bird[0]!, lastError: 'BIRD down' }] } };
    expect(renderNagios(stale).line).toMatch(/WARNING - BIRD not updated: IPv4: BIRD down/);
  });

  it("counts the drained services in the perf data, and a drain alone is no problem (it is an operator's choice)", () => {
    const drain = { source: 'command' as const, all: false, reason: 'maintenance', since: '2026-12-01T10:00:00.000Z', ageSeconds: 5 };
    const r = renderNagios(
      sampleReply([sampleService('web', { drains: [drain] }), sampleService('dns'), sampleService('ntp', { drains: [] })]),
    );
    expect(r.code).toBe(NAGIOS.OK);
    expect(r.line).toMatch(/ unknown=0 drained=1 restarts=0c /);
  });

  it('failure lines carry the state name', () => {
    expect(renderNagiosFailure(NAGIOS.CRITICAL, 'no daemon').line).toBe('ANYCAST-HEALTHCHECKER CRITICAL - no daemon');
  });
});

const AWKWARD = ['my web', 'a=b', "it's", 'x|y', 'ünï 名前', "'q'", 'sp  2', 'tab\there'];

describe('Nagios output against the plugin guidelines, with awkward service names', () => {
  it('quotes labels with a space or a quote, doubles the quote, and never writes "=" in a label', () => {
    expect(perfLabel('web_duration')).toBe('web_duration');
    expect(perfLabel('my web_duration')).toBe("'my web_duration'");
    expect(perfLabel("it's_duration")).toBe("'it''s_duration'");
    expect(perfLabel('a=b_duration')).toBe('a_b_duration');
    expect(perfLabel('x|y_duration')).toBe('x|y_duration');
    expect(perfLabel('ünï 名前_duration')).toBe("'ünï 名前_duration'");
  });

  it('every line parses strictly and names each service that ran a check in a label', () => {
    const services = AWKWARD.map((name, i) =>
      sampleService(name, {
        lastCheck: { at: '2026-11-25T10:00:00.000Z', ok: true, exitCode: 0, durationMs: 1 + i / 3, timedOut: false, ipAssigned: true },
      }),
    );
    const line = parsePluginLine(renderNagios(sampleReply([...services, sampleService('never-ran', { lastCheck: null })])).line);
    expect(line.state).toBe('OK');
    const labels = line.perfdata.map((p) => p.label);
    expect(labels.slice(0, FIXED_PERFDATA_LABELS.length)).toEqual(FIXED_PERFDATA_LABELS);
    expect(labels.slice(FIXED_PERFDATA_LABELS.length)).toEqual(AWKWARD.map((n) => `${n.replaceAll('=', '_').replace('\t', ' ')}_duration`));
    for (const p of line.perfdata.slice(FIXED_PERFDATA_LABELS.length)) expect(p).toMatchObject({ uom: 'ms', min: '0' });
    expect(line.perfdata[FIXED_PERFDATA_LABELS.length + 1]?.value).toBeCloseTo(1.333, 3);
  });

  it('keeps "|" and control characters out of the status text: service names, BIRD errors, failure reasons', () => {
    const failed = { state: 'failed' as const, threadId: 3, lastHeartbeatAgeMs: null, restarts: 5, lastExit: 'x' };
    const reply = sampleReply(AWKWARD.map((name) => sampleService(name, { worker: failed })));
    const stale = {
      ...reply,
      daemon: { ...reply.daemon, bird: [{ ...reply.daemon.bird[0]!, lastError: 'BIRD 2.0 ready. | syntax error\nline 2' }] },
    };
    const r = renderNagios(stale);
    expect(r.code).toBe(NAGIOS.CRITICAL);
    const line = parsePluginLine(r.line);
    expect(line.text).toBe(
      `${AWKWARD.length} check worker(s) failed: my web, a=b, it's, x/y, ünï 名前, 'q', sp  2, tab here; BIRD not updated: IPv4: BIRD 2.0 ready. / syntax error line 2`,
    );
    expect(parsePluginLine(renderNagiosFailure(NAGIOS.UNKNOWN, 'cannot read /etc/a|b.conf\nsecond').line)).toEqual({
      state: 'UNKNOWN',
      text: 'cannot read /etc/a/b.conf second',
      perfdata: [],
    });
    expect(nagiosText('a|b|c')).toBe('a/b/c');
  });
});

describe('the strict performance-data reader (so that the tests above can fail)', () => {
  it.each([
    ['a b=1', 'unquoted label with a space'],
    ["'a=b'=1", '"=" in a label'],
    ["'a'b'=1", '"=" expected'],
    ['a=1e3', 'unknown unit'],
    ['a=1xs', 'unknown unit'],
    ['a=1  b=2', 'exactly one space'],
    ['a=1;2;3;4;5;6', 'more than five'],
    ['a=1;x', 'warn is not a range'],
    ["''=1", 'non-space'],
    ["'unterminated=1", 'unterminated'],
  ])('rejects %j', (text, why) => {
    expect(() => parsePerfdata(text)).toThrow(why);
  });

  it('reads quoted labels, doubled quotes, ranges and U', () => {
    expect(parsePerfdata("'it''s x'=1.5ms;@10:20;~:5;0;100 b=U")).toEqual([
      { label: "it's x", value: 1.5, uom: 'ms', warn: '@10:20', crit: '~:5', min: '0', max: '100' },
      { label: 'b', value: 'U', uom: '', warn: '', crit: '', min: '', max: '' },
    ]);
  });

  it('rejects a status text cut short by a "|" that leaked into it', () => {
    expect(() => parsePluginLine('ANYCAST-HEALTHCHECKER CRITICAL - failed: x|y | services=1')).toThrow(/invalid performance data/);
  });
});

describe('table', () => {
  it('shows one row per service with state, worker and BIRD membership', () => {
    const out = renderTable(sampleReply());
    expect(out).toMatch(/^SERVICE\s+PREFIX\s+STATE\s+WORKER/m);
    expect(out).toMatch(/^web\s+10\.52\.12\.1\/32\s+UP\s+running\s+1\s+200ms/m);
    expect(out).toMatch(/^dns\s+10\.52\.12\.2\/32\s+DOWN/m);
  });

  it('says how check commands are spawned: through ahc-spawn, or by the threads and why', () => {
    const base = sampleReply();
    const host = renderTable({
      ...base,
      daemon: {
        ...base.daemon,
        spawnHelper: {
          via: 'host',
          reason: 'the helper started',
          binary: '/usr/lib/anycast-healthchecker/ahc-spawn',
          state: 'running',
          pid: 4242,
          restarts: 1,
          inFlight: 3,
          fallbackRuns: 2,
          rerunsAfterDeath: 3,
          lastExit: 'was killed by SIGKILL',
        },
      },
    });
    expect(host).toMatch(
      /^check commands: spawned by ahc-spawn, running, pid 4242, 1 restarts, 3 running, 2 run directly, last exit: was killed by SIGKILL$/m,
    );
    const self = renderTable({
      ...base,
      daemon: { ...base.daemon, spawnHelper: { via: 'self', reason: 'ahc-spawn could not be started: ENOENT', binary: '/x/ahc-spawn' } },
    });
    expect(self).toMatch(/^check commands: spawned by the check threads \(ahc-spawn could not be started: ENOENT\)$/m);
    expect(renderTable(base)).not.toMatch(/check commands/);
  });

  it('shows where the interface checks get addresses from, when the daemon says', () => {
    const reply = sampleReply();
    expect(renderTable(reply)).not.toMatch(/^addresses:/m);
    const withWatch = {
      ...reply,
      daemon: {
        ...reply.daemon,
        addresses: {
          source: 'polling' as const,
          ipPath: '/usr/sbin/ip',
          monitorPid: null,
          restarts: 2,
          since: '2026-12-01T10:00:00.000Z',
          lastProblem: '`ip -o monitor address` (pid 7) was killed by SIGKILL',
        },
      },
    };
    expect(renderTable(withWatch)).toMatch(
      /^addresses: polling since 2026-12-01T10:00:00.000Z, 2 restarts, last problem: `ip -o monitor address` \(pid 7\) was killed by SIGKILL$/m,
    );
    const events = {
      ...withWatch,
      daemon: {
        ...withWatch.daemon,
        addresses: { ...withWatch.daemon.addresses, source: 'events' as const, monitor: 'ahc-spawn --watch-addresses', monitorPid: 9 },
      },
    };
    expect(renderTable(events)).toMatch(/^addresses: events since \S+, ahc-spawn --watch-addresses pid 9, 2 restarts/m);
    // A status from before the monitor was named: the ip monitor it then always was.
    const unnamed = { ...events, daemon: { ...events.daemon, addresses: { ...events.daemon.addresses, monitor: undefined } } };
    expect(renderTable(unnamed)).toMatch(/^addresses: events since \S+, ip -o monitor address pid 9, 2 restarts/m);
  });
});

describe('the state file in status', () => {
  const reply = sampleReply();
  const withState = (stateFile: StateFileStatus): StatusReply => ({ ...reply, daemon: { ...reply.daemon, stateFile } });
  const ok: StateFileStatus = {
    path: '/var/lib/anycast-healthchecker/state/state.json',
    state: 'ok',
    writes: 12,
    failures: 0,
    lastWrite: '2026-12-01T10:00:00.123Z',
    failingSince: null,
    lastProblem: null,
  };
  const failing: StateFileStatus = {
    ...ok,
    state: 'failing',
    failures: 3,
    failingSince: '2026-12-01T10:01:00.000Z',
    lastProblem: 'cannot write /var/lib/anycast-healthchecker/state/state.json: ENOSPC: no space left on device, write',
  };

  it('has a line in the table: written, not written since when and why, or disabled', () => {
    expect(renderTable(reply)).not.toMatch(/^state file:/m);
    expect(renderTable(withState(ok))).toMatch(
      /^state file: \/var\/lib\/anycast-healthchecker\/state\/state\.json \(written 12 times, last 2026-12-01 10:00:00Z\)$/m,
    );
    expect(renderTable(withState(failing))).toMatch(
      /^state file: \S+ \(NOT WRITTEN since 2026-12-01 10:01:00Z, 3 failed writes, last written 2026-12-01 10:00:00Z: cannot write \S+: ENOSPC: no space left on device, write; a restart starts from the last file written\)$/m,
    );
    const disabled = { ...ok, state: 'disabled' as const, writes: 0, lastWrite: null, lastProblem: 'state_dir /x cannot be used: EACCES' };
    expect(renderTable(withState(disabled))).toMatch(
      /^state file: \S+ \(DISABLED: state_dir \/x cannot be used: EACCES; decided states and drains are not kept across a restart\)$/m,
    );
  });

  it('makes the Nagios check WARNING while it is not written or disabled, OK while it is', () => {
    expect(renderNagios(withState(ok)).code).toBe(NAGIOS.OK);
    const r = renderNagios(withState(failing));
    expect(r.code).toBe(NAGIOS.WARNING);
    expect(r.line).toMatch(
      /^ANYCAST-HEALTHCHECKER WARNING - state file \S+ not written: cannot write \S+: ENOSPC: no space left on device, write \| /,
    );
    const disabled = renderNagios(withState({ ...failing, state: 'disabled', lastProblem: 'state_dir /x cannot be used: EACCES' }));
    expect(disabled.code).toBe(NAGIOS.WARNING);
    expect(disabled.line).toMatch(/WARNING - state file \S+ disabled: state_dir \/x cannot be used: EACCES \|/);
    // A failed worker still decides the code.
    const worse = withState(failing);
    const critical = {
      ...worse,
      services: [sampleService('web', { worker: { state: 'failed', threadId: 3, lastHeartbeatAgeMs: null, restarts: 5, lastExit: 'x' } })],
    };
    expect(renderNagios(critical).code).toBe(NAGIOS.CRITICAL);
  });
});
