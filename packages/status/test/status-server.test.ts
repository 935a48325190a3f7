import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusServer } from '../src/status-server';
import { requestStatus } from '../src/status-client';
import { MAX_REQUEST_BYTES } from '../src/status-protocol';
import type { StatusReply } from '../src/status-protocol';
import { sampleReply } from './sample-reply';

const servers: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function socketPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'ahc-status-')), 'ahc.sock');
}

async function start(path = socketPath(), status: () => Promise<StatusReply> = async () => sampleReply()): Promise<StatusServer> {
  const server = new StatusServer(path, { status });
  await server.listen();
  servers.push(server);
  return server;
}

/** Send raw bytes, collect every reply line until the server closes or `lines` arrived. */
function raw(path: string, payload: string, lines = 1): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(payload));
    s.on('data', (d: string) => {
      buf += d;
      const got = buf.split('\n').filter((l) => l !== '');
      if (got.length >= lines) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('close', () => resolve(buf.split('\n').filter((l) => l !== '')));
    s.on('error', reject);
  });
}

describe('status socket', () => {
  it('is created with mode 0660', async () => {
    const server = await start();
    expect(statSync(server.path).mode & 0o777).toBe(0o660);
  });

  it('answers a status request with the versioned reply', async () => {
    const server = await start();
    const reply = await requestStatus(server.path);
    expect(reply).toMatchObject({ version: 1, ok: true });
    expect('daemon' in reply && reply.services.length).toBe(2);
  });

  it('replaces a stale socket file nobody listens on', async () => {
    const path = socketPath();
    // A daemon that died by SIGKILL leaves its socket file behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)})`], { stdio: 'ignore' });
    const end = Date.now() + 5000;
    while (!existsSync(path)) {
      if (Date.now() > end) throw new Error('child never listened');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(statSync(path).isSocket()).toBe(true);
    const server = await start(path);
    expect((await requestStatus(server.path)).ok).toBe(true);
  });

  it('refuses when another live daemon owns the socket', async () => {
    const path = socketPath();
    await start(path);
    await expect(start(path)).rejects.toMatchObject({ code: 'AHC_STATUS_SOCKET_IN_USE' });
  });

  it('refuses to replace a regular file at the socket path', async () => {
    const path = socketPath();
    writeFileSync(path, 'precious');
    await expect(start(path)).rejects.toMatchObject({ code: 'AHC_STATUS_SOCKET' });
  });

  it('answers garbage with an error reply and keeps serving', async () => {
    const server = await start();
    const lines = await raw(server.path, 'not json\n{"command":"nope"}\n[1,2]\n{"version":99,"command":"status"}\n{"command":"ping"}\n', 5);
    const replies = lines.map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string } });
    expect(replies.slice(0, 4).every((r) => !r.ok)).toBe(true);
    expect(replies[3]?.error?.code).toBe('AHC_STATUS_VERSION');
    expect(replies[4]?.ok).toBe(true);
    expect((await requestStatus(server.path)).ok).toBe(true);
  });

  it('answers an oversized request with an error and closes that connection only', async () => {
    const server = await start();
    const lines = await raw(server.path, 'x'.repeat(MAX_REQUEST_BYTES + 10));
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ ok: false, error: { code: 'AHC_STATUS_TOO_LARGE' } });
    expect((await requestStatus(server.path)).ok).toBe(true);
  });

  it('serves 100 concurrent clients', async () => {
    let calls = 0;
    const server = await start(socketPath(), async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 5));
      return sampleReply();
    });
    const replies = await Promise.all(Array.from({ length: 100 }, () => requestStatus(server.path)));
    expect(replies.every((r) => r.ok)).toBe(true);
    expect(calls).toBe(100);
  });

  it('a status handler that throws gives an error reply, not a crash', async () => {
    const server = await start(socketPath(), async () => {
      throw new Error('boom');
    });
    const reply = await requestStatus(server.path);
    expect(reply).toMatchObject({ ok: false, error: { code: 'AHC_STATUS_INTERNAL', message: 'boom' } });
  });

  it('client errors say what is wrong: no socket, nobody listening', async () => {
    const path = socketPath();
    await expect(requestStatus(path)).rejects.toMatchObject({ code: 'AHC_STATUS_DOWN', message: expect.stringMatching(/does not exist/) });
  });
});
