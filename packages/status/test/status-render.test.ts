import { describe, expect, it } from 'vitest';
import { NAGIOS, renderNagios, renderNagiosFailure, renderTable } from '../src/status-render';
import { sampleReply, sampleService } from './sample-reply';

describe('Nagios mode', () => {
  it('is OK with a one-line summary and perf data for a healthy daemon', () => {
    const r = renderNagios(sampleReply());
    expect(r.code).toBe(NAGIOS.OK);
    expect(r.line).toBe('ANYCAST-HEALTHCHECKER OK - 2 check(s) running, 1 up, 1 down | services=2 running=2 failed=0 restarting=0 disabled=0 up=1 down=1 unknown=0 restarts=0c uptime=60s loop_lag=1ms');
  });

  it('is CRITICAL naming the services whose worker failed', () => {
    const r = renderNagios(sampleReply([sampleService('web', { worker: { state: 'failed', threadId: 3, lastHeartbeatAgeMs: null, restarts: 5, lastExit: 'exited with code 1' } }), sampleService('dns')]));
    expect(r.code).toBe(NAGIOS.CRITICAL);
    expect(r.line).toMatch(/^ANYCAST-HEALTHCHECKER CRITICAL - 1 check worker\(s\) failed: web \| .*failed=1 .*restarts=5c/);
  });

  it('is WARNING while a worker restarts or BIRD could not be updated', () => {
    expect(renderNagios(sampleReply([sampleService('web', { worker: { state: 'restarting', threadId: 3, lastHeartbeatAgeMs: null, restarts: 1, lastExit: 'x' } })])).code).toBe(NAGIOS.WARNING);
    const reply = sampleReply();
    const stale = { ...reply, daemon: { ...reply.daemon, bird: [{ ...reply.daemon.bird[0]!, lastError: 'BIRD down' }] } };
    expect(renderNagios(stale).line).toMatch(/WARNING - BIRD not updated: IPv4: BIRD down/);
  });

  it('failure lines carry the state name', () => {
    expect(renderNagiosFailure(NAGIOS.CRITICAL, 'no daemon').line).toBe('ANYCAST-HEALTHCHECKER CRITICAL - no daemon');
  });
});

describe('table', () => {
  it('shows one row per service with state, worker and BIRD membership', () => {
    const out = renderTable(sampleReply());
    expect(out).toMatch(/^SERVICE\s+PREFIX\s+STATE\s+WORKER/m);
    expect(out).toMatch(/^web\s+10\.52\.12\.1\/32\s+UP\s+running\s+1\s+200ms/m);
    expect(out).toMatch(/^dns\s+10\.52\.12\.2\/32\s+DOWN/m);
  });
});
