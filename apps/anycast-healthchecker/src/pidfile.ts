import { AhcError, ERR, errnoCode } from '@ahc/errors';
import { readFileSync, unlinkSync } from 'node:fs';
import { writeFileAtomic } from '@ahc/fs';

export class PidfileError extends AhcError {
  override name = 'PidfileError';
  constructor(message: string) {
    super(ERR.AHC_PIDFILE, message);
  }
}

/** Is `pid` a live anycast-healthchecker (not just any process that got the recycled pid)? */
function isLiveDaemon(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (errnoCode(error) !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /anycast[-_]healthchecker/.test(cmdline);
  } catch {
    return true; // cannot tell: be safe, treat as alive
  }
}

export type PidfileOutcome = 'created' | 'replaced-stale' | 'replaced-garbage';

/** Write our pid; refuse when the file names a live daemon; replace stale or garbage files. */
export async function claimPidfile(path: string): Promise<PidfileOutcome> {
  let outcome: PidfileOutcome = 'created';
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw new PidfileError(`cannot read pidfile ${path}: ${(error as Error).message}`);
  }
  if (text !== null) {
    const trimmed = text.trim();
    const pid = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
    if (!Number.isInteger(pid) || pid <= 0) outcome = 'replaced-garbage';
    else if (pid !== process.pid && isLiveDaemon(pid)) {
      throw new PidfileError(
        `pidfile ${path} names process ${pid}, which is a running anycast-healthchecker; refusing to start a second one`,
      );
    } else outcome = 'replaced-stale';
  }
  try {
    await writeFileAtomic(path, `${process.pid}\n`);
  } catch (error) {
    throw new PidfileError(`cannot write pidfile ${path}: ${(error as Error).message}`);
  }
  return outcome;
}

export function releasePidfile(path: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch {
    // gone already, or not ours
  }
}
