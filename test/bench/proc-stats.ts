// What the kernel says about a running process (Linux /proc): resident memory, CPU time and
// whether its main thread sits idle in the event loop. Readers return undefined once the
// process is gone, so callers can tell "exited" from "zero".
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface MemorySample {
  /** VmRSS: resident set size now, in KiB. */
  readonly rssKiB: number;
  /** VmHWM: peak resident set size since the process started, in KiB. */
  readonly hwmKiB: number;
  /** Threads: kernel threads of the process (main, V8 platform, libuv pool, workers). */
  readonly threads: number;
}

function readProcFile(pid: number, name: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return undefined;
  }
}

function statusField(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** VmRSS, VmHWM and Threads from /proc/PID/status (undefined for a zombie, which has no Vm lines). */
export function readMemory(pid: number): MemorySample | undefined {
  const status = readProcFile(pid, 'status');
  if (status === undefined) return undefined;
  const rssKiB = statusField(status, 'VmRSS');
  const hwmKiB = statusField(status, 'VmHWM');
  const threads = statusField(status, 'Threads');
  if (rssKiB === undefined || hwmKiB === undefined || threads === undefined) return undefined;
  return { rssKiB, hwmKiB, threads };
}

/** utime + stime of all the process's threads, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export function readCpuTicks(pid: number): number | undefined {
  const stat = readProcFile(pid, 'stat');
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat: ${stat}`);
  return utime + stime;
}

/** Clock ticks per second (`getconf CLK_TCK`), the unit of /proc/PID/stat times. */
export function clockTicksPerSecond(): number {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(ticks) || ticks <= 0) throw new Error(`getconf CLK_TCK gave ${ticks}`);
  return ticks;
}

/**
 * Whether the main thread waits in epoll (Node's event loop with nothing to do), from
 * /proc/PID/wchan; undefined when the kernel does not expose wait channels.
 */
export function mainThreadInEpoll(pid: number): boolean | undefined {
  const wchan = readProcFile(pid, 'wchan');
  if (wchan === undefined || wchan === '' || wchan === '0') return undefined;
  return wchan.includes('epoll');
}

export const KIB_PER_MIB = 1024;
