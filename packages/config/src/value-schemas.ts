import { LOG_LEVELS, isLogLevel } from '@ahc/protocol';
import type { Family, LogLevel } from '@ahc/protocol';
import * as z from 'zod/mini';
import { parsePythonBool, parsePythonFloat, parsePythonInt } from '@ahc/ini';
import { splitCommand } from '@ahc/command';
import { parsePrefixList, toIpPrefix } from './prefix-list';

/**
 * zod schemas from an INI string to a typed value, read the way Python reads them. Each
 * failure message says what was expected; the caller adds where. zod/mini rather than zod's
 * classic API: the same validation, 5 MiB less resident memory in the daemon (docs/design.md).
 */
type Parse<T> = (text: string) => { ok: true; value: T } | { ok: false; message: string };

function fromString<T>(parse: Parse<T>) {
  return z.pipe(
    z.string(),
    z.transform((text: string, ctx) => {
      const r = parse(text);
      if (r.ok) return r.value;
      ctx.issues.push({ code: 'custom', message: r.message, input: text });
      return z.NEVER;
    }),
  );
}

const fail = (message: string) => ({ ok: false as const, message });

export const boolValue = fromString((text) => {
  const r = parsePythonBool(text);
  return r.ok ? r : fail('not a boolean (use one of 1/yes/true/on or 0/no/false/off)');
});

export function intValue(min: number, max = Number.MAX_SAFE_INTEGER) {
  return fromString((text) => {
    const r = parsePythonInt(text);
    if (!r.ok) return fail('not an integer');
    if (r.value < min || r.value > max)
      return fail(max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}` : `must be between ${min} and ${max}`);
    return r;
  });
}

/** A number of seconds: finite and > 0 (or >= 0 when zero is allowed). */
export function secondsValue(allowZero = false) {
  return fromString((text) => {
    const r = parsePythonFloat(text);
    if (!r.ok) return fail('not a number');
    if (!Number.isFinite(r.value) || (allowZero ? r.value < 0 : r.value <= 0)) {
      return fail(allowZero ? 'must be a finite number of seconds, 0 or more' : 'must be a finite number of seconds greater than 0');
    }
    return r;
  });
}

export const nonEmpty = z.string().check(z.minLength(1, { error: 'must not be empty' }));

export const pathValue = z.string().check(z.minLength(1, { error: 'must be a path' }));

export const commandValue = fromString((text) => {
  let argv: string[];
  try {
    argv = splitCommand(text);
  } catch (error) {
    return fail(`cannot be split into words: ${(error as Error).message}`);
  }
  if (argv.length === 0) return fail('is empty, a command is needed');
  return { ok: true, value: { text, argv } };
});

/** One prefix (the dummies), of `family` when given. */
export function prefixValue(family?: Family) {
  return fromString((text) => {
    const r = toIpPrefix(text);
    if (!r.ok) return fail(`not a valid IP prefix: ${r.reason}`);
    if (family !== undefined && r.value.family !== family) return fail(`must be an IPv${family} prefix`);
    return r;
  });
}

/** `ip_prefix`: one prefix or several (prefix-list.ts). */
export const prefixListValue = fromString(parsePrefixList);

export const birdVariable = z.string().check(
  z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: 'not a valid BIRD symbol name (letters, digits and _, not starting with a digit)',
  }),
);

export const logLevelValue = fromString<LogLevel>((text) => {
  const v = text.toLowerCase();
  if (isLogLevel(v)) return { ok: true, value: v };
  return fail(`not a log level (${LOG_LEVELS.join(', ')})`);
});

export const onDisabledValue = z.enum(['withdraw', 'advertise'], { error: "must be 'withdraw' or 'advertise'" });

export const workerThreadsValue = fromString<'auto' | 'per-service' | number>((text) => {
  const word = text.toLowerCase();
  if (word === 'per-service' || word === 'auto') return { ok: true, value: word };
  const r = parsePythonInt(text);
  if (r.ok && r.value >= 1 && r.value <= 256) return r;
  return fail("must be 'auto', 'per-service' or a number of threads from 1 to 256");
});

export const httpProtocolValue = z.enum(['http', 'https'], { error: "must be 'http' or 'https'" });

export const onWorkerFailureValue = z.enum(['keep', 'withdraw'], {
  error: "must be 'keep' (the route stays as last decided) or 'withdraw'",
});

/** `prometheus_listen`: HOST:PORT, [IPv6]:PORT or :PORT. */
export const listenAddressValue = fromString((text) => {
  const m = /^(?:\[[^\]]+\]|[^:[\]]*):(\d{1,5})$/.exec(text.trim());
  const port = m === null ? 0 : Number(m[1]);
  if (port < 1 || port > 65535) return fail('must be HOST:PORT, [IPv6]:PORT or :PORT (e.g. 127.0.0.1:9610)');
  return { ok: true, value: text.trim() };
});

/** `control_group`: a group name (or a numeric gid). Whether it exists is a check of this host (filesystem-checks.ts). */
export const groupValue = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/, { error: 'must be a group name (letters, digits, _, . and -) or a numeric group id' }),
  );
