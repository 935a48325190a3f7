import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareSets, parseBirdSet, verifyBirdVariable } from '../src/verify';
import { isProcessAlive, waitFor } from './fixture';

function standIn(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ahc-verify-'));
  const f = join(dir, 'birdc');
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
  return f;
}

describe('parseBirdSet', () => {
  it("reads BIRD 2's eval reply with prefix-range braces", () => {
    expect(parseBirdSet('BIRD 2.0.12 ready.\n[10.52.12.1/32{0.0.0.1}, 10.189.200.255/32{0.0.0.1}]\n')).toEqual([
      '10.52.12.1/32',
      '10.189.200.255/32',
    ]);
  });
  it('reads IPv6 sets and normalises them', () => {
    expect(parseBirdSet('[2001:db8::1/128{::1}, 2001:DB8:52:0::1/128]')).toEqual(['2001:db8::1/128', '2001:db8:52::1/128']);
  });
  it('ignores the banner and error text', () => {
    expect(parseBirdSet('BIRD 2.0.12 ready.\nsyntax error, unexpected CF_SYM_UNDEFINED\n')).toEqual([]);
  });
});

describe('compareSets', () => {
  it('names what is missing and what is extra', () => {
    expect(compareSets(['a', 'b'], ['b', 'c'])).toEqual({ missing: ['c'], extra: ['a'] });
  });
});

describe('verifyBirdVariable', () => {
  it('matches when the live set equals the wanted set', async () => {
    const cmd = standIn('echo "BIRD 2.0.12 ready."; echo "[10.52.12.1/32{0.0.0.1}, 10.189.200.255/32{0.0.0.1}]"');
    const o = await verifyBirdVariable(`${cmd} eval`, 'ACAST_PS_ADVERTISE', ['10.189.200.255/32', '10.52.12.1/32'], { timeoutMs: 2000 });
    expect(o.status).toBe('match');
  });
  it('has a kind for each outcome and runs an already split command as split', async () => {
    const cmd = standIn('echo "[10.189.200.255/32{0.0.0.1}]"; echo "args: $*" >&2');
    const o = await verifyBirdVariable({ text: 'x "unclosed', argv: [cmd, 'a b'] }, 'ACAST_PS_ADVERTISE', ['10.189.200.255/32'], {
      timeoutMs: 2000,
    });
    expect(o).toMatchObject({ status: 'match', kind: 'match' });
    expect((await verifyBirdVariable(cmd, 'V', ['10.0.0.1/32'], { timeoutMs: 2000 })).kind).toBe('mismatch');
    expect((await verifyBirdVariable('x "unclosed', 'V', [], { timeoutMs: 2000 })).kind).toBe('invalid-command');
    expect((await verifyBirdVariable(standIn('exit 4'), 'V', [], { timeoutMs: 2000 })).kind).toBe('exit-code');
    expect((await verifyBirdVariable(standIn('echo nothing'), 'V', [], { timeoutMs: 2000 })).kind).toBe('no-prefixes');
  });
  it('reports a mismatch naming the prefixes', async () => {
    const cmd = standIn('echo "[10.189.200.255/32{0.0.0.1}]"');
    const o = await verifyBirdVariable(cmd, 'ACAST_PS_ADVERTISE', ['10.189.200.255/32', '10.52.12.1/32'], { timeoutMs: 2000 });
    expect(o).toMatchObject({ status: 'mismatch', missing: ['10.52.12.1/32'] });
    expect(o.reason).toMatch(/missing 10\.52\.12\.1\/32/);
  });
  it('fails clearly when BIRD does not know the variable or is down', async () => {
    const cmd = standIn('echo "syntax error, unexpected CF_SYM_UNDEFINED"; exit 1');
    const o = await verifyBirdVariable(cmd, 'NOPE', ['10.189.200.255/32'], { timeoutMs: 2000 });
    expect(o.status).toBe('failed');
    expect(o.reason).toMatch(/exited with code 1: syntax error/);
  });
  it('leaves nothing behind: a background job that ignores SIGTERM and holds stdout is killed when birdc exits', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'ahc-verify-')), 'job.pid');
    const cmd = standIn(`(trap '' TERM; exec sleep 60) & echo $! > "${pidFile}"; echo "[10.189.200.255/32{0.0.0.1}]"`);
    expect((await verifyBirdVariable(cmd, 'ACAST_PS_ADVERTISE', ['10.189.200.255/32'], { timeoutMs: 2000 })).status).toBe('match');
    const job = Number(readFileSync(pidFile, 'utf8'));
    expect(job).toBeGreaterThan(1);
    await waitFor(`background job ${job} to be killed`, () => !isProcessAlive(job), 3000);
  });
  it('appends the variable name as the last argument', async () => {
    const cmd = standIn('echo "[$1]"');
    const o = await verifyBirdVariable(`${cmd}`, '10.189.200.255/32', ['10.189.200.255/32'], { timeoutMs: 2000 });
    expect(o.status).toBe('match');
  });
});
