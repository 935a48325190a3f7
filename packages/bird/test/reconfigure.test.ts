import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCustomReconfigure, runReconfigure } from '../src/index';
import { isProcessAlive, makeTempDir, removeTempDir, waitFor } from './fixture';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('reconfigure');
});

afterAll(async () => {
  await removeTempDir(dir);
});

/** A stand-in for birdc: a shell script in the temp dir; returns its path. */
async function standIn(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

const READY = 'echo "BIRD 2.0.12 ready."; echo "Reading configuration from /etc/bird/bird.conf"';
const TIMEOUT = { timeoutMs: 5000 };

describe('runReconfigure against stand-in scripts', () => {
  it('is applied when BIRD 1.x/2.x answers "Reconfigured" and exits 0', async () => {
    const birdc = await standIn('ok.sh', `${READY}; echo Reconfigured`);
    const outcome = await runReconfigure(`${birdc} configure`, TIMEOUT);
    expect(outcome).toMatchObject({ status: 'applied', reason: 'BIRD answered "Reconfigured"' });
    expect(outcome.output).toBe('BIRD 2.0.12 ready.\nReading configuration from /etc/bird/bird.conf\nReconfigured');
    expect(outcome.durationMs).toBeGreaterThan(0);
    expect(outcome.result.code).toBe(0);
  });

  it('accepts "Reconfigured" with CR line ends and surrounding spaces', async () => {
    const birdc = await standIn('crlf.sh', `printf 'BIRD 1.6.8 ready.\\r\\n  Reconfigured  \\r\\n'`);
    expect((await runReconfigure(birdc, TIMEOUT)).status).toBe('applied');
  });

  it('is not applied when "Reconfigured" is only part of a line', async () => {
    const birdc = await standIn('partial.sh', 'echo "Not Reconfigured yet"');
    const outcome = await runReconfigure(birdc, TIMEOUT);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe('exit code 0 but no "Reconfigured" line from BIRD; output: Not Reconfigured yet');
  });

  it('is not applied when "Reconfigured" comes with a non-zero exit code', async () => {
    const birdc = await standIn('ok-but-exit-2.sh', 'echo Reconfigured; exit 2');
    const outcome = await runReconfigure(birdc, TIMEOUT);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'exit code 2; output: Reconfigured' });
  });

  it.each(['Reconfiguration in progress', 'Reconfiguration already in progress, queueing new config'])(
    'treats the BIRD 3.x answer "%s" as accepted and in progress',
    async (answer) => {
      const birdc = await standIn(
        `bird3-${answer.length}.sh`,
        `echo "BIRD 3.0.0 ready."; echo "Reading configuration from x"; echo "${answer}"`,
      );
      const outcome = await runReconfigure(`${birdc} configure`, TIMEOUT);
      expect(outcome.status).toBe('in-progress');
      expect(outcome.reason).toContain(answer);
    },
  );

  it('fails when BIRD is down, saying so and quoting birdc', async () => {
    const birdc = await standIn(
      'down.sh',
      `echo "Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory" >&2; exit 1`,
    );
    const outcome = await runReconfigure(`${birdc} configure`, TIMEOUT);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe(
      'cannot reach BIRD; is it running? (exit code 1): Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory',
    );
  });

  it('fails on a syntax error even with exit code 0 (BIRD 1.x), blaming the configuration and quoting BIRD', async () => {
    const line = '/var/lib/anycast-healthchecker/anycast-prefixes.conf:5:9 syntax error, unexpected CF_SYM_UNDEFINED';
    const birdc = await standIn('syntax.sh', `${READY}; echo "${line}"`);
    const outcome = await runReconfigure(birdc, TIMEOUT);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe(
      `BIRD rejected the configuration: the generated prefix file or the BIRD configuration around it is invalid (exit code 0): ${line}`,
    );
  });

  it('recognises the old BIRD 1.x error format "file, line N:"', async () => {
    const birdc = await standIn('syntax-old.sh', `echo "/etc/bird.conf, line 12: syntax error"`);
    expect((await runReconfigure(birdc, TIMEOUT)).reason).toContain('invalid (exit code 0): /etc/bird.conf, line 12: syntax error');
  });

  it('fails when BIRD cannot read its configuration, quoting the line after "Reading configuration"', async () => {
    const birdc = await standIn('unreadable.sh', `${READY}; echo "/etc/bird/bird.conf: Permission denied"; exit 1`);
    expect((await runReconfigure(birdc, TIMEOUT)).reason).toBe(
      'BIRD could not load its configuration (exit code 1): /etc/bird/bird.conf: Permission denied',
    );
  });

  it('fails when BIRD is shutting down', async () => {
    const birdc = await standIn('shutdown.sh', `echo "Reconfiguration ignored, shutting down"`);
    expect((await runReconfigure(birdc, TIMEOUT)).reason).toMatch(/^BIRD is shutting down/);
  });

  it('fails with exit 0 and no output', async () => {
    const birdc = await standIn('silent.sh', 'exit 0');
    expect((await runReconfigure(birdc, TIMEOUT)).reason).toBe('exit code 0 but no "Reconfigured" line from BIRD; no output');
  });

  it('fails with "command not found" for a missing program', async () => {
    const outcome = await runReconfigure(`${join(dir, 'no-such-birdc')} configure`, TIMEOUT);
    expect(outcome).toMatchObject({ status: 'failed', reason: `command not found: ${join(dir, 'no-such-birdc')}` });
  });

  it('fails with "permission denied" for a file that is not executable', async () => {
    const path = join(dir, 'not-executable.sh');
    await writeFile(path, '#!/bin/sh\necho Reconfigured\n');
    await chmod(path, 0o644);
    expect((await runReconfigure(path, TIMEOUT)).reason).toBe(`permission denied running ${path}`);
  });

  it('fails on a command line that cannot be split', async () => {
    const outcome = await runReconfigure('birdc "configure', TIMEOUT);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(/^invalid command line: no closing quotation/);
  });

  it('splits the command like a shell, without a shell, and appends extra arguments', async () => {
    const birdc = await standIn('args recorder.sh', `for a in "$@"; do echo "[$a]"; done > "${dir}/args.txt"; echo Reconfigured`);
    const outcome = await runReconfigure(`'${birdc}' -s "/run/my bird.ctl" configure $HOME`, { ...TIMEOUT, extraArgs: ['up'] });
    expect(outcome.status).toBe('applied');
    expect(await readFile(join(dir, 'args.txt'), 'utf8')).toBe('[-s]\n[/run/my bird.ctl]\n[configure]\n[$HOME]\n[up]\n');
  });

  it('kills a hanging command and its grandchildren after the timeout', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const birdc = await standIn('hang.sh', `sleep 60 & echo $! > "${pidFile}"; echo "BIRD 2.0.12 ready."; sleep 60`);
    const outcome = await runReconfigure(`${birdc} configure`, { timeoutMs: 300 });
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe('timed out after 300 ms; the command and every process it started were killed; output: BIRD 2.0.12 ready.');
    expect(outcome.result.timedOut).toBe(true);
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    await waitFor(`grandchild ${grandchild} to die`, () => !isProcessAlive(grandchild), 2000);
  });

  it('is killed at once when the signal aborts (daemon shutdown)', async () => {
    const birdc = await standIn('slow.sh', 'sleep 60');
    const controller = new AbortController();
    const pending = runReconfigure(birdc, { timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const outcome = await pending;
    expect(outcome).toMatchObject({ status: 'failed', reason: 'aborted (shutting down)' });
    expect(outcome.durationMs).toBeLessThan(5000);
  });

  it('fails when the command is killed by a signal', async () => {
    const birdc = await standIn('killed.sh', 'kill -TERM $$');
    expect((await runReconfigure(birdc, TIMEOUT)).reason).toBe('killed by SIGTERM');
  });
});

describe('the kind of an outcome', () => {
  it.each([
    ['ok-kind.sh', `${READY}; echo Reconfigured`, 'applied'],
    ['syntax-kind.sh', `${READY}; echo "./prefixes.conf:1:43 syntax error, unexpected ','"; exit 1`, 'config-rejected'],
    [
      'socket-kind.sh',
      'echo "Unable to connect to server control socket (/run/bird.ctl): No such file or directory" >&2; exit 1',
      'no-socket',
    ],
    ['exit-kind.sh', 'exit 3', 'exit-code'],
    ['quiet-kind.sh', 'true', 'not-confirmed'],
  ])('%s is %s', async (name, body, kind) => {
    const birdc = await standIn(name, body);
    expect((await runReconfigure(birdc, TIMEOUT)).kind).toBe(kind);
  });

  it('says not-found, invalid-command and timed-out apart', async () => {
    expect((await runReconfigure(join(dir, 'no-such-birdc'), TIMEOUT)).kind).toBe('not-found');
    expect((await runReconfigure('birdc "configure', TIMEOUT)).kind).toBe('invalid-command');
    const slow = await standIn('slow-kind.sh', 'sleep 5');
    expect((await runReconfigure(slow, { timeoutMs: 200 })).kind).toBe('timed-out');
  });

  it('runs an already split command as split, without splitting its text again', async () => {
    const birdc = await standIn('split-once.sh', `${READY}; echo Reconfigured; echo "args: $*" >&2`);
    const outcome = await runReconfigure({ text: 'not "split again', argv: [birdc, 'a b', 'configure'] }, TIMEOUT);
    expect(outcome).toMatchObject({ status: 'applied', kind: 'applied' });
    expect(outcome.output).toContain('args: a b configure');
    const custom = await runCustomReconfigure({ text: 'not "split again', argv: [birdc, 'x y'] }, 'up', TIMEOUT);
    expect(custom.kind).toBe('applied');
    expect(custom.output).toContain('args: x y up');
  });
});

describe('runCustomReconfigure', () => {
  it('appends up or down and succeeds on exit code 0 whatever it prints', async () => {
    const script = await standIn('custom.sh', 'echo "custom $1 done"; echo "warning" >&2');
    const up = await runCustomReconfigure(`${script} --flag`, 'up', TIMEOUT);
    expect(up).toMatchObject({ status: 'applied', reason: 'exit code 0', output: 'custom --flag done\nwarning' });
    const down = await runCustomReconfigure(script, 'down', TIMEOUT);
    expect(down.output).toBe('custom down done\nwarning');
  });

  it('fails on a non-zero exit code, quoting the output', async () => {
    const script = await standIn('custom-fail.sh', 'echo "cannot do $1"; exit 3');
    expect(await runCustomReconfigure(script, 'down', TIMEOUT)).toMatchObject({
      status: 'failed',
      reason: 'exit code 3; output: cannot do down',
    });
  });

  it('never reports in-progress, even for a BIRD 3.x answer with a failing exit code', async () => {
    const script = await standIn('custom-bird3.sh', 'echo "Reconfiguration in progress"; exit 1');
    expect((await runCustomReconfigure(script, 'up', TIMEOUT)).status).toBe('failed');
  });

  it('names the missing program when it cannot be run', async () => {
    const program = join(dir, 'not-installed', 'announce');
    expect(await runCustomReconfigure(`${program} --quick`, 'up', TIMEOUT)).toMatchObject({
      status: 'failed',
      reason: `command not found: ${program}`,
    });
  });

  it.each([
    ['runCustomReconfigure', (cmd: string) => runCustomReconfigure(cmd, 'up', TIMEOUT)],
    ['runReconfigure', (cmd: string) => runReconfigure(cmd, TIMEOUT)],
  ])(
    '%s leaves nothing behind: a background job that ignores SIGTERM and holds stdout is killed when the command exits',
    async (name, run) => {
      const pidFile = join(dir, `${name}-job.pid`);
      const script = await standIn(`${name}-leaver.sh`, `(trap '' TERM; exec sleep 60) & echo $! > "${pidFile}"; echo Reconfigured`);
      expect((await run(script)).status).toBe('applied');
      const job = Number(await readFile(pidFile, 'utf8'));
      expect(job).toBeGreaterThan(1);
      await waitFor(`background job ${job} to be killed`, () => !isProcessAlive(job), 3000);
    },
  );

  it('kills it after its timeout', async () => {
    const script = await standIn('custom-hang.sh', 'sleep 60');
    const outcome = await runCustomReconfigure(script, 'up', { timeoutMs: 200 });
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: 'timed out after 200 ms; the command and every process it started were killed',
    });
  });
});
