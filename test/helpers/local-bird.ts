// One BIRD 2 in the current network namespace, with no protocols that touch the kernel: only
// the prefix files included, a filter per family using them (in an empty static protocol) and
// a control socket in a temp dir. For tests of the daemon against a real `birdc configure` /
// `birdc eval` without the namespace test bed. Stop/start it to play "BIRD is down".
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIRD, BIRDC, birdc } from './birdc.js';
import { exec, isAlive, signalPid } from './exec.js';
import { pollUntil } from './poll.js';
import { IP4_VARIABLE, IP6_VARIABLE, ensurePrefixFile } from './prefix-file.js';

export interface LocalBirdInput {
  /** Directory for bird.conf, the control socket, the pidfile and the log. */
  readonly dir: string;
  readonly prefixFile4: string;
  readonly prefixFile6: string;
}

export class LocalBird {
  readonly conf: string;
  readonly socket: string;
  readonly pidfile: string;

  constructor(readonly input: LocalBirdInput) {
    this.conf = join(input.dir, 'bird.conf');
    this.socket = join(input.dir, 'bird.ctl');
    this.pidfile = join(input.dir, 'bird.pid');
    ensurePrefixFile(input.prefixFile4, 4);
    ensurePrefixFile(input.prefixFile6, 6);
    writeFileSync(this.conf, LocalBird.render(input));
  }

  /** bird.conf: the two prefix files, a filter each that uses their variable, two empty static protocols. */
  static render(input: LocalBirdInput): string {
    return [
      'router id 192.0.2.1;',
      `log "${join(input.dir, 'bird.log')}" all;`,
      `include "${input.prefixFile4}";`,
      `include "${input.prefixFile6}";`,
      `filter advertise4 { if net ~ ${IP4_VARIABLE} then accept; reject; }`,
      `filter advertise6 { if net ~ ${IP6_VARIABLE} then accept; reject; }`,
      // BIRD wants a protocol; static ones with no routes touch nothing outside BIRD.
      'protocol static static4 { ipv4 { import filter advertise4; }; }',
      'protocol static static6 { ipv6 { import filter advertise6; }; }',
      '',
    ].join('\n');
  }

  /** `birdc -s SOCK configure`, for bird_reconfigure_cmd. */
  get reconfigureCommand(): string {
    return `${BIRDC} -s ${this.socket} configure`;
  }

  /** `birdc -s SOCK eval`, for bird_verify_cmd (the daemon appends the variable). */
  get verifyCommand(): string {
    return `${BIRDC} -s ${this.socket} eval`;
  }

  pid(): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(this.pidfile, 'utf8').trim(), 10);
      return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Start BIRD (it daemonizes once the config is parsed and the socket bound). */
  async start(): Promise<void> {
    if (this.pid() !== undefined) return;
    rmSync(this.pidfile, { force: true });
    await exec([BIRD, '-c', this.conf, '-s', this.socket, '-P', this.pidfile]);
    await pollUntil(async () => (this.pid() !== undefined ? true : undefined), { what: `BIRD pidfile ${this.pidfile}`, timeoutMs: 5_000 });
  }

  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    signalPid(pid, 'SIGTERM');
    await pollUntil(async () => (isAlive(pid) ? undefined : true), { what: `BIRD (pid ${pid}) to exit`, timeoutMs: 5_000 }).catch(
      async () => {
        signalPid(pid, 'SIGKILL');
        await pollUntil(async () => (isAlive(pid) ? undefined : true), { what: `BIRD (pid ${pid}) to die`, timeoutMs: 2_000 });
      },
    );
    rmSync(this.pidfile, { force: true });
  }

  /** BIRD's live value of a prefix-set variable, as `birdc eval` prints it. */
  async evalVariable(variable: string): Promise<string> {
    const { stdout } = await birdc(this.socket, ['eval', variable]);
    return stdout;
  }

  /** The prefixes in BIRD's live value of `variable` (`[10.0.0.1/32{0.0.0.1}, ...]`). */
  async liveSet(variable: string): Promise<string[]> {
    const text = await this.evalVariable(variable);
    return [...text.matchAll(/([0-9a-fA-F.:]+\/\d{1,3})\{/g)].map((m) => (m[1] ?? '').toLowerCase());
  }

  log(): string {
    try {
      return readFileSync(join(this.input.dir, 'bird.log'), 'utf8');
    } catch {
      return '';
    }
  }
}
