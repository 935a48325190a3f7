import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCompiledConfig } from '@ahc/config';
import type { CompiledConfig } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import { parsePrefixFile } from '@ahc/bird';
import { afterEach } from 'vitest';
import type { CheckHost, CheckHostEvents } from '../src/check-host';
import { Supervisor } from '../src/supervisor';
import { captureLogger } from '../../../test/helpers/capture-logger';

export const WORKER_FILE = fileURLToPath(new URL('../../../apps/anycast-healthchecker/dist/check-worker.mjs', import.meta.url));

export interface Bed {
  dir: string;
  birdConf: string;
  reconfigureLog: string;
  customLog: string;
  customCmd: string;
  healthy(name: string, yes: boolean): void;
  config(services: Record<string, Record<string, string>>, daemon?: Record<string, string>): CompiledConfig;
  prefixes(): string[];
  reconfigures(): number;
  logger: Logger;
  logs: string[];
}

/** A temp dir with a recording stand-in for birdc and health files that drive the checks. */
export function makeBed(): Bed {
  const dir = mkdtempSync(join(tmpdir(), 'ahc-sup-'));
  mkdirSync(join(dir, 'd'));
  const birdConf = join(dir, 'anycast-prefixes.conf');
  const reconfigureLog = join(dir, 'reconfigures');
  const customLog = join(dir, 'custom');
  const birdc = join(dir, 'birdc');
  writeFileSync(birdc, `#!/bin/sh\necho run >> ${reconfigureLog}\necho Reconfigured\n`);
  chmodSync(birdc, 0o755);
  const customCmd = join(dir, 'custom.sh');
  writeFileSync(customCmd, `#!/bin/sh\necho "$1" >> ${customLog}\n`);
  chmodSync(customCmd, 0o755);
  const { log: logger, lines: logs } = captureLogger();
  const ini = (sections: Record<string, Record<string, string>>) =>
    Object.entries(sections)
      .map(
        ([name, opts]) =>
          `[${name}]\n${Object.entries(opts)
            .map(([k, v]) => `${k} = ${v}`)
            .join('\n')}\n`,
      )
      .join('\n');
  return {
    dir,
    birdConf,
    reconfigureLog,
    customLog,
    customCmd,
    logger,
    logs,
    healthy(name, yes) {
      const f = join(dir, `${name}.healthy`);
      if (yes) writeFileSync(f, '');
      else rmSync(f, { force: true });
    },
    config(services, daemon = {}) {
      writeFileSync(
        join(dir, 'daemon.conf'),
        ini({
          daemon: {
            pidfile: join(dir, 'pid'),
            bird_conf: birdConf,
            bird_reconfigure_cmd: `${birdc} configure`,
            ...daemon,
          },
        }),
      );
      const full: Record<string, Record<string, string>> = {};
      for (const [name, opts] of Object.entries(services)) {
        full[name] = {
          check_cmd: `/usr/bin/test -e ${join(dir, `${name}.healthy`)}`,
          check_interval: '0.1',
          check_timeout: '0.1',
          check_rise: '1',
          check_fail: '1',
          check_disabled: 'false',
          ip_check_disabled: 'true',
          ...opts,
        };
      }
      writeFileSync(join(dir, 'd', 'services.conf'), ini(full));
      return loadCompiledConfig({ file: join(dir, 'daemon.conf'), dir: join(dir, 'd') }).config;
    },
    prefixes: () => prefixesIn(birdConf),
    reconfigures: () => linesIn(reconfigureLog),
  };
}

/** The prefixes a BIRD include file lists; none while it does not exist (or does not parse). */
export function prefixesIn(file: string): string[] {
  try {
    return [...parsePrefixFile(readFileSync(file, 'utf8')).prefixes];
  } catch {
    return [];
  }
}

/** How many lines a fake birdc's log has: how many times it ran (0 before the first). */
export function linesIn(file: string): number {
  try {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l !== '').length;
  } catch {
    return 0;
  }
}

export { until } from '../../../test/helpers/check-spec';

/**
 * Supervisors started by a test file, each on the host `makeHost` builds for it, and stopped
 * after every test. `track` registers one started by hand.
 */
export function supervisorsOn<H extends CheckHost>(makeHost: (config: CompiledConfig, events: CheckHostEvents) => H) {
  let running: Supervisor[] = [];
  afterEach(async () => {
    await Promise.all(running.map((s) => s.stop()));
    running = [];
  });
  return {
    async start(bed: Bed, config: CompiledConfig): Promise<{ sup: Supervisor; host: H }> {
      const sup = new Supervisor(config, bed.logger);
      const host = makeHost(config, sup);
      running.push(sup);
      await sup.start(host);
      return { sup, host };
    },
    track(sup: Supervisor): void {
      running.push(sup);
    },
  };
}
