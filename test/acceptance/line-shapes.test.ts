/**
 * Where the records go and the shape of each line (docs/logging.md): without log_file every
 * record goes to stderr and none to stdout; with log_file only to that file. Text lines carry
 * timestamp, program[pid], level and thread column (padding differences are only reported);
 * log_format_journalctl gives exactly `<P>THREAD - MESSAGE`; json_stdout gives
 * `anycast-healthchecker: {json}` with the documented keys, types and `status` values.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AcceptanceBed,
  birdFileText,
  daemonVersion,
  netnsUnavailableReason,
  PREFIX,
  REPO_ROOT,
  SERVICE,
} from '../helpers/acceptance-bed.js';
import { daemonSkipReason, logLineWallTime } from '../helpers/daemon-process.js';
import {
  ASCTIME,
  JSON_PREFIX,
  isCheckedRecord,
  paddingProblems,
  parseAnyRecord,
  parseRecord,
  type LogRecord,
} from '../helpers/log-records.js';
import { pollUntil } from '../helpers/poll.js';

const skip = daemonSkipReason(REPO_ROOT) ?? netnsUnavailableReason();
if (skip !== null) console.warn(`line-shapes acceptance skipped: ${skip}`);

const FAST = { check_interval: '0.3', check_timeout: '0.25' };
const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const THREADS = [SERVICE, 'MainThread'];

const beds: AcceptanceBed[] = [];
afterEach(async () => {
  for (const bed of beds.splice(0)) await bed.destroy();
});

async function untilUp(bed: AcceptanceBed): Promise<string> {
  await pollUntil(async () => (bed.readBirdPrefixes().includes(PREFIX) ? true : undefined), {
    what: `${PREFIX} in the BIRD file`,
    timeoutMs: 8_000,
    describe: () => bed.tail(15),
  });
  return readFileSync(bed.pidfile, 'utf8').trim();
}

/** stdout lines that are records of any shape. */
const recordsOn = (bed: AcceptanceBed, stream: 'stdout' | 'stderr'): string[] =>
  bed.entries.filter((e) => e.stream === stream && parseAnyRecord(e.line.raw) !== undefined).map((e) => e.line.raw);

describe.skipIf(skip !== null)('log destinations and line shapes', () => {
  it('text without log_file: records on stderr only, with timestamp, program[pid], level and thread fields', async () => {
    const bed = await AcceptanceBed.create({ id: 'acls', service: FAST });
    beds.push(bed);
    bed.start();
    const pid = await untilUp(bed);
    await bed.stop();
    expect.soft(recordsOn(bed, 'stdout'), 'records on stdout').toEqual([]);
    const stderr = bed.entries.filter((e) => e.stream === 'stderr');
    expect
      .soft(
        stderr.filter((e) => e.record === undefined).map((e) => e.line.raw),
        'stderr lines that are no text record',
      )
      .toEqual([]);
    const records = stderr.map((e) => e.record).filter((r): r is LogRecord => r !== undefined);
    expect(records.length).toBeGreaterThan(3);
    const bad = records.filter(
      (r) => !ASCTIME.test(r.asctime ?? '') || String(r.pid) !== pid || !LEVELS.includes(r.level) || !THREADS.includes(r.thread),
    );
    expect
      .soft(
        bad.map((r) => r.raw),
        'records with a wrong field',
      )
      .toEqual([]);
    const now = Date.now();
    const skew = records.map((r) => Math.abs((logLineWallTime(r.raw) ?? 0) - now)).reduce((a, b) => Math.max(a, b), 0);
    expect.soft(skew, "largest distance of a record's local-time stamp from now (ms)").toBeLessThan(60_000);
    const wanted = [
      ['INFO', 'MainThread', `starting anycast-healthchecker version ${daemonVersion()}`],
      ['INFO', SERVICE, 'going up 1/2'],
      ['INFO', SERVICE, 'changed to UP'],
    ];
    for (const [level, thread, message] of wanted) {
      expect
        .soft(
          records.some((r) => r.level === level && r.thread === thread && r.message === message),
          `${level} ${thread} ${message}`,
        )
        .toBe(true);
    }
    // The thread column is one wider than the longest section name (DEFAULT, daemon, svc-a).
    const padding = paddingProblems(records, 'DEFAULT'.length + 1);
    if (padding.length > 0) console.log(`text padding differs (reported only):\n  ${padding.join('\n  ')}`);
  }, 20_000);

  it('log_format_journalctl = true: exactly <P>THREAD - MESSAGE with the syslog severity', async () => {
    const bed = await AcceptanceBed.create({
      id: 'acjd',
      shape: 'journald',
      service: FAST,
      daemon: { log_format_journalctl: 'true', purge_ip_prefixes: 'false' },
      birdFile: birdFileText(['10.52.9.1/32']),
    });
    beds.push(bed);
    bed.start();
    await untilUp(bed);
    bed.setSlow(true);
    await bed
      .waitForRecord((r) => r.thread === SERVICE && /timed out/.test(r.message), 5_000, 0, 'a timed-out check')
      .catch(() => undefined);
    await bed.stop();
    expect.soft(recordsOn(bed, 'stdout'), 'records on stdout').toEqual([]);
    const stderr = bed.entries.filter((e) => e.stream === 'stderr').map((e) => e.line.raw);
    expect
      .soft(
        stderr.filter((l) => !/^<[2-7]>(svc-a|MainThread) - \S/.test(l)),
        'stderr lines not of the shape <P>THREAD - MESSAGE',
      )
      .toEqual([]);
    const want = [
      `<6>MainThread - starting anycast-healthchecker version ${daemonVersion()}`,
      `<4>MainThread - found IP prefixes 10.52.9.1/32 in ${bed.birdConf} without a service check configured`,
      '<6>svc-a - going up 1/2',
      '<6>svc-a - changed to UP',
      `<6>svc-a - adding ${PREFIX} in the queue`,
      `<6>MainThread - announcing ${PREFIX} for svc-a`,
      '<3>svc-a - check timed out',
      '<6>MainThread - shutdown is complete',
    ];
    expect(
      want.filter((w) => !stderr.includes(w)),
      `lines missing from stderr; the output began with\n${bed.entries
        .slice(0, 30)
        .map((e) => `${e.stream}| ${e.line.raw}`)
        .join('\n')}\n`,
    ).toEqual([]);
  }, 20_000);

  it('json_stdout = true: `anycast-healthchecker: ` + JSON with the documented keys, types and status values', async () => {
    const bed = await AcceptanceBed.create({ id: 'acjs', shape: 'json', service: FAST, daemon: { json_stdout: 'true' } });
    beds.push(bed);
    bed.start();
    let pid = '';
    const drive = await bed.driveChecks(
      [
        {
          then: (b) => {
            pid = readFileSync(b.pidfile, 'utf8').trim();
          },
        },
        { then: (b) => b.setHealthy(false) },
        {},
        { then: (b) => b.setHealthy(true) },
        {},
        { then: (b) => b.delAddress() },
        { kind: 'unassigned' },
        { kind: 'unassigned' },
      ],
      5_000,
    );
    const last = drive.marks.at(-1);
    const drivenMax = (last === undefined ? bed.entries : bed.drivenEntries(last)).at(-1)?.index ?? -1;
    await bed.stop();
    expect.soft(recordsOn(bed, 'stdout'), 'records on stdout').toEqual([]);
    // Records of checks after the driven ones are left out.
    const stderr = bed.entries.filter((e) => e.stream === 'stderr' && (e.record?.thread !== SERVICE || e.index <= drivenMax));
    expect
      .soft(
        stderr.filter((e) => e.record === undefined).map((e) => e.line.raw),
        `stderr lines that are not ${JSON.stringify(JSON_PREFIX)} + a JSON object`,
      )
      .toEqual([]);
    const records = stderr.map((e) => e.record).filter((r): r is LogRecord => r !== undefined);
    expect(records.length).toBeGreaterThan(3);
    const version = daemonVersion();
    const common = (r: LogRecord): string[] => {
      const o = r.json ?? {};
      const p: string[] = [];
      if (typeof o.asctime !== 'string' || !ASCTIME.test(o.asctime)) p.push(`asctime ${JSON.stringify(o.asctime)}`);
      if (typeof o.levelname !== 'string' || !LEVELS.includes(o.levelname)) p.push(`levelname ${JSON.stringify(o.levelname)}`);
      if (!Number.isInteger(o.process) || String(o.process) !== pid) p.push(`process ${JSON.stringify(o.process)} (pid ${pid})`);
      if (typeof o.message !== 'string') p.push(`message ${JSON.stringify(o.message)}`);
      if (o.version !== version) p.push(`version ${JSON.stringify(o.version)}`);
      if (o.program !== 'anycast-healthchecker') p.push(`program ${JSON.stringify(o.program)}`);
      if (typeof o.service_name !== 'string' || !THREADS.includes(o.service_name)) p.push(`service_name ${JSON.stringify(o.service_name)}`);
      return p;
    };
    const commonProblems = records
      .map((r) => [r.raw, common(r)] as const)
      .filter(([, p]) => p.length > 0)
      .map(([raw, p]) => `${p.join(', ')}: ${raw}`);
    expect.soft(commonProblems, 'records with a missing or wrong common key').toEqual([]);
    // Records of a check carry the service keys; `status` follows the decisions.
    const carrying = (r: LogRecord): boolean =>
      r.thread === SERVICE && isCheckedRecord(r) && /^(going (up|down)|changed to|status (UP|DOWN)|adding )/.test(r.message);
    const serviceKeys = records.filter(carrying).map((r) => {
      const o = r.json ?? {};
      const types =
        o.ip_address === '10.52.0.1' && o.prefix_length === 32 && Number.isInteger(o.prefix_length) && o.ip_check_disabled === false
          ? ''
          : ` [ip_address=${JSON.stringify(o.ip_address)} prefix_length=${JSON.stringify(o.prefix_length)} ip_check_disabled=${JSON.stringify(o.ip_check_disabled)}]`;
      return `${r.message} | status=${JSON.stringify(o.status)}${types}`;
    });
    const adding = `adding ${PREFIX} in the queue`;
    const because = `status DOWN because ${PREFIX} isn't assigned to lo interface.`;
    expect(serviceKeys).toEqual([
      'going up 1/2 | status="unknown"',
      'changed to UP | status="up"',
      `${adding} | status="up"`,
      'going down 1/2 | status="up"',
      'changed to DOWN | status="down"',
      `${adding} | status="down"`,
      'going up 1/2 | status="down"',
      'changed to UP | status="up"',
      `${adding} | status="up"`,
      `${because} | status="down"`,
      `${adding} | status="down"`,
      `${because} | status="down"`,
    ]);
    const documented = new Set([
      'asctime',
      'levelname',
      'process',
      'message',
      'version',
      'program',
      'service_name',
      'ip_address',
      'prefix_length',
      'ip_check_disabled',
      'status',
    ]);
    const extra = new Set(records.flatMap((r) => Object.keys(r.json ?? {}).filter((k) => !documented.has(k))));
    if (extra.size > 0) console.log(`JSON records carry extra keys (reported only): ${[...extra].join(', ')}`);
  }, 30_000);

  it('log_file: records only in the file, none on stdout or stderr', async () => {
    const bed = await AcceptanceBed.create({ id: 'aclf', netns: false, service: FAST, daemon: { log_file: '{dir}/ahc.log' } });
    const logFile = join(bed.dir, 'ahc.log');
    beds.push(bed);
    bed.start();
    await untilUp(bed);
    await bed.stop();
    expect.soft(recordsOn(bed, 'stdout'), 'records on stdout').toEqual([]);
    expect.soft(recordsOn(bed, 'stderr'), 'records on stderr').toEqual([]);
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const records = lines.map((l) => parseRecord(l, 'text'));
    expect
      .soft(
        lines.filter((_, i) => records[i] === undefined),
        'file lines that are no text record',
      )
      .toEqual([]);
    const messages = records.filter((r): r is LogRecord => r !== undefined).map((r) => `${r.thread} ${r.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        `MainThread starting anycast-healthchecker version ${daemonVersion()}`,
        `${SERVICE} going up 1/2`,
        `${SERVICE} changed to UP`,
      ]),
    );
  }, 20_000);

  it('json_log_file = true: the file holds `anycast-healthchecker: ` + JSON lines, nothing on stdout or stderr', async () => {
    const bed = await AcceptanceBed.create({
      id: 'acjf',
      netns: false,
      service: FAST,
      daemon: { log_file: '{dir}/ahc.log', json_log_file: 'true' },
    });
    beds.push(bed);
    bed.start();
    const pid = await untilUp(bed);
    await bed.stop();
    expect.soft(recordsOn(bed, 'stdout'), 'records on stdout').toEqual([]);
    expect.soft(recordsOn(bed, 'stderr'), 'records on stderr').toEqual([]);
    const lines = readFileSync(join(bed.dir, 'ahc.log'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const records = lines.map((l) => parseRecord(l, 'json'));
    expect
      .soft(
        lines.filter((_, i) => records[i] === undefined),
        `file lines that are not ${JSON.stringify(JSON_PREFIX)} + a JSON object`,
      )
      .toEqual([]);
    const up = records.find((r) => r?.thread === SERVICE && r.message === 'changed to UP');
    expect(up?.json).toMatchObject({
      levelname: 'INFO',
      process: Number(pid),
      version: daemonVersion(),
      program: 'anycast-healthchecker',
      service_name: SERVICE,
      ip_address: '10.52.0.1',
      prefix_length: 32,
      ip_check_disabled: true,
      status: 'up',
    });
    expect(up?.json?.asctime).toMatch(ASCTIME);
  }, 20_000);
});
