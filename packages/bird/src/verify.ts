import { commandArgv, runCommand } from '@ahc/command';
import type { CommandLine, CommandRunner } from '@ahc/command';
import { normalizePrefix } from './prefix';

/**
 * Ask BIRD for the live value of the prefix-set variable and compare it with what the daemon
 * wants. BIRD 2 answers `birdc eval ACAST_PS_ADVERTISE` with a set literal such as
 * `[10.52.12.1/32{0.0.0.1}, 10.189.200.255/32{0.0.0.1}]` (the braces are BIRD's prefix-range
 * notation); any `ip/len` in the reply counts.
 */
/** Why a verify failed (`match`/`mismatch` when it did not), for code that counts by kind. */
export type VerifyKind = 'match' | 'mismatch' | 'invalid-command' | 'spawn-failed' | 'timed-out' | 'exit-code' | 'no-prefixes';

export interface VerifyOutcome {
  readonly status: 'match' | 'mismatch' | 'failed';
  readonly kind: VerifyKind;
  readonly reason: string;
  readonly live: readonly string[];
  readonly missing: readonly string[];
  readonly extra: readonly string[];
}

const PREFIX_TOKEN = /([0-9a-fA-F:.]+\/\d{1,3})/g;

/** The prefixes in birdc's reply, normalised, in reply order. */
export function parseBirdSet(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    if (/^BIRD .* ready\.$/.test(line.trim())) continue;
    for (const m of line.matchAll(PREFIX_TOKEN)) {
      const r = normalizePrefix(m[1] ?? '');
      if (r.ok && !out.includes(r.prefix)) out.push(r.prefix);
    }
  }
  return out;
}

export function compareSets(live: readonly string[], wanted: readonly string[]): { missing: string[]; extra: string[] } {
  const l = new Set(live);
  const w = new Set(wanted);
  return { missing: [...w].filter((p) => !l.has(p)), extra: [...l].filter((p) => !w.has(p)) };
}

export async function verifyBirdVariable(
  command: CommandLine,
  variable: string,
  wanted: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal; run?: CommandRunner },
): Promise<VerifyOutcome> {
  const fail = (kind: VerifyKind, reason: string): VerifyOutcome => ({ status: 'failed', kind, reason, live: [], missing: [], extra: [] });
  let argv: string[];
  try {
    argv = [...commandArgv(command), variable];
  } catch (error) {
    return fail('invalid-command', `cannot split the verify command: ${(error as Error).message}`);
  }
  const result = await (options.run ?? runCommand)(argv, {
    timeoutMs: options.timeoutMs,
    maxOutputBytes: 256 * 1024,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const output = `${result.stdout}${result.stderr}`.trim();
  if (result.spawnError !== null) return fail('spawn-failed', `cannot run ${argv[0] ?? ''}: ${result.spawnError.message}`);
  if (result.timedOut) return fail('timed-out', `${argv.join(' ')} timed out after ${options.timeoutMs} ms`);
  if (result.code !== 0) return fail('exit-code', `${argv.join(' ')} exited with code ${result.code ?? 'unknown'}: ${output}`);
  const live = parseBirdSet(result.stdout);
  if (live.length === 0) return fail('no-prefixes', `${argv.join(' ')} printed no prefixes: ${output}`);
  const { missing, extra } = compareSets(live, wanted);
  if (missing.length === 0 && extra.length === 0)
    return { status: 'match', kind: 'match', reason: `BIRD's ${variable} matches (${live.length} prefixes)`, live, missing, extra };
  const parts = [
    missing.length > 0 ? `missing ${missing.join(', ')}` : '',
    extra.length > 0 ? `unexpected ${extra.join(', ')}` : '',
  ].filter((p) => p !== '');
  return {
    status: 'mismatch',
    kind: 'mismatch',
    reason: `BIRD's live ${variable} differs from the file: ${parts.join('; ')}`,
    live,
    missing,
    extra,
  };
}
