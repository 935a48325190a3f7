import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlServer } from '../src/control-server';
import { requestControl } from '../src/control-client';
import { parseControlRequest } from '../src/control-protocol';
import type { ControlReply, ControlRequest } from '../src/control-protocol';
import { StatusServer } from '../src/status-server';
import { sampleReply } from './sample-reply';

const servers: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const socketPath = (): string => join(mkdtempSync(join(tmpdir(), 'ahc-control-')), 'ahc.control.sock');

async function start(path = socketPath(), gid: number | null = null, seen: ControlRequest[] = []): Promise<ControlServer> {
  const server = new ControlServer(path, gid, async (request): Promise<ControlReply> => {
    seen.push(request);
    return { version: 1, ok: true, command: 'reload', added: [], removed: [], changed: [], unchanged: 1, daemonChanges: [], message: 'ok' };
  });
  await server.listen();
  servers.push(server);
  return server;
}

describe('control socket', () => {
  it('is created with mode 0660 and, with a gid, given to that group', async () => {
    const plain = await start();
    expect(statSync(plain.path).mode & 0o777).toBe(0o660);
    expect(statSync(plain.path).gid).toBe(process.getgid?.());
    // gid 1 (daemon on Debian and Fedora); the tests run as root, who may give a file to any group.
    const grouped = await start(socketPath(), 1);
    expect(statSync(grouped.path).gid).toBe(1);
    expect(statSync(grouped.path).mode & 0o777).toBe(0o660);
  });

  it('hands drain, undrain and reload to the daemon, and answers ping itself', async () => {
    const seen: ControlRequest[] = [];
    const server = await start(socketPath(), null, seen);
    expect(await requestControl(server.path, { command: 'ping' }, 2000)).toEqual({ version: 1, ok: true, command: 'ping' });
    expect((await requestControl(server.path, { command: 'reload' }, 2000)).ok).toBe(true);
    await requestControl(server.path, { command: 'drain', services: ['a', ' b '], reason: 'line 1\nline 2' }, 2000);
    await requestControl(server.path, { command: 'undrain', all: true }, 2000);
    expect(seen).toEqual([
      { command: 'reload' },
      { command: 'drain', services: ['a', 'b'], all: false, reason: 'line 1 line 2' },
      { command: 'undrain', services: [], all: true },
    ]);
  });

  it('is removed at close', async () => {
    const server = await start();
    await server.close();
    expect(existsSync(server.path)).toBe(false);
  });

  it('refuses when another live daemon owns it, and never replaces a file that is not a socket', async () => {
    const path = socketPath();
    await start(path);
    await expect(start(path)).rejects.toMatchObject({
      code: 'AHC_CONTROL_SOCKET_IN_USE',
      message: expect.stringMatching(/^control socket /),
    });
    const other = socketPath();
    writeFileSync(other, 'precious');
    await expect(start(other)).rejects.toMatchObject({ code: 'AHC_CONTROL_SOCKET' });
  });

  it('is a socket of its own: the status socket does not take control commands', async () => {
    const path = socketPath();
    const status = new StatusServer(path, { status: async () => sampleReply() });
    await status.listen();
    servers.push(status);
    expect(await requestControl(path, { command: 'drain', all: true }, 2000)).toMatchObject({
      ok: false,
      error: { code: 'AHC_STATUS_BAD_REQUEST', message: expect.stringMatching(/unknown command "drain"/) },
    });
  });

  it('client errors say what is wrong, with codes of their own: no socket, nobody listening, permission denied', async () => {
    const path = socketPath();
    await expect(requestControl(path, { command: 'reload' }, 2000)).rejects.toMatchObject({
      code: 'AHC_CONTROL_DOWN',
      message: expect.stringMatching(/control socket .* does not exist: is anycast-healthchecker running\?/),
    });
    // A socket nobody listens on any more (a daemon killed with SIGKILL): ECONNREFUSED.
    const stale = socketPath();
    spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await expect(requestControl(stale, { command: 'reload' }, 2000)).rejects.toMatchObject({
      code: 'AHC_CONTROL_DOWN',
      message: expect.stringMatching(/nothing is listening/),
    });
    const server = await start();
    // As nobody (not in the socket's group), with the directory open to all: EACCES from the socket's mode 0660.
    chmodSync(dirname(server.path), 0o755);
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '-e',
        `require('net').connect(${JSON.stringify(server.path)}).on('error', (e) => { console.log(e.code); process.exit(0) }).on('connect', () => { console.log('connected'); process.exit(0) })`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('EACCES');
  });
});

describe('control requests', () => {
  it('need service names or all, not both, and a string reason', () => {
    const code = (line: string): string | undefined => {
      const r = parseControlRequest(line);
      return 'ok' in r && !r.ok ? r.error.code : undefined;
    };
    expect(code('{"command":"drain"}')).toBe('AHC_STATUS_BAD_REQUEST');
    expect(code('{"command":"drain","services":["a"],"all":true}')).toBe('AHC_STATUS_BAD_REQUEST');
    expect(code('{"command":"drain","services":[""]}')).toBe('AHC_STATUS_BAD_REQUEST');
    expect(code('{"command":"drain","services":"a"}')).toBe('AHC_STATUS_BAD_REQUEST');
    expect(code('{"command":"drain","all":true,"reason":5}')).toBe('AHC_STATUS_BAD_REQUEST');
    expect(code('{"version":2,"command":"reload"}')).toBe('AHC_STATUS_VERSION');
    expect(code('not json')).toBe('AHC_STATUS_BAD_REQUEST');
    expect(code('{"command":"status"}')).toBe('AHC_STATUS_BAD_REQUEST');
    expect(parseControlRequest('{"command":"drain","all":true}')).toEqual({
      command: 'drain',
      services: [],
      all: true,
      reason: 'no reason given',
    });
    expect(parseControlRequest(`{"command":"drain","all":true,"reason":"${'x'.repeat(600)}"}`)).toMatchObject({ reason: 'x'.repeat(500) });
  });
});
