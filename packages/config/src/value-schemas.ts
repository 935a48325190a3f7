import { z } from 'zod';
import { parsePythonBool, parsePythonFloat, parsePythonInt } from '@ahc/ini';
import { normalizePrefix } from '@ahc/bird';
import { splitCommand } from '@ahc/command';

/** zod schemas from an INI string to a typed value, read the way Python reads them. Each
 * failure message says what was expected, so the caller only adds where. */

export const boolValue = z.string().transform((text, ctx) => {
  const r = parsePythonBool(text);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: 'not a boolean (use one of 1/yes/true/on or 0/no/false/off)' });
    return z.NEVER;
  }
  return r.value;
});

export function intValue(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.string().transform((text, ctx) => {
    const r = parsePythonInt(text);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: 'not an integer' });
      return z.NEVER;
    }
    if (r.value < min || r.value > max) {
      ctx.addIssue({ code: 'custom', message: max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}` : `must be between ${min} and ${max}` });
      return z.NEVER;
    }
    return r.value;
  });
}

/** A number of seconds: finite and > 0 (or >= 0 when zero is allowed). */
export function secondsValue(allowZero = false) {
  return z.string().transform((text, ctx) => {
    const r = parsePythonFloat(text);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: 'not a number' });
      return z.NEVER;
    }
    if (!Number.isFinite(r.value) || (allowZero ? r.value < 0 : r.value <= 0)) {
      ctx.addIssue({ code: 'custom', message: allowZero ? 'must be a finite number of seconds, 0 or more' : 'must be a finite number of seconds greater than 0' });
      return z.NEVER;
    }
    return r.value;
  });
}

export const nonEmpty = z.string().min(1, { message: 'must not be empty' });

export const pathValue = z.string().min(1, { message: 'must be a path' });

export const commandValue = z.string().transform((text, ctx) => {
  let argv: string[];
  try {
    argv = splitCommand(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `cannot be split into words: ${(error as Error).message}` });
    return z.NEVER;
  }
  if (argv.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'is empty, a command is needed' });
    return z.NEVER;
  }
  return { text, argv };
});

export function prefixValue(family?: 4 | 6) {
  return z.string().transform((text, ctx) => {
    const r = normalizePrefix(text);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: `not a valid IP prefix: ${r.reason}` });
      return z.NEVER;
    }
    if (family !== undefined && r.family !== family) {
      ctx.addIssue({ code: 'custom', message: `must be an IPv${family} prefix` });
      return z.NEVER;
    }
    const [address = '', length = ''] = r.prefix.split('/');
    return { prefix: r.prefix, family: r.family, address, prefixLength: Number(length) };
  });
}

export const birdVariable = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  message: 'not a valid BIRD symbol name (letters, digits and _, not starting with a digit)',
});

export const logLevelValue = z.string().transform((text, ctx) => {
  const v = text.toLowerCase();
  if (v === 'debug' || v === 'info' || v === 'warning' || v === 'error' || v === 'critical') return v;
  ctx.addIssue({ code: 'custom', message: 'not a log level (debug, info, warning, error, critical)' });
  return z.NEVER;
});

export const onDisabledValue = z.enum(['withdraw', 'advertise'], { message: "must be 'withdraw' or 'advertise'" });

export const workerThreadsValue = z.string().transform((text, ctx) => {
  if (text.toLowerCase() === 'per-service') return 'per-service' as const;
  const r = parsePythonInt(text);
  if (r.ok && r.value >= 1 && r.value <= 256) return r.value;
  ctx.addIssue({ code: 'custom', message: "must be 'per-service' or a number of threads from 1 to 256" });
  return z.NEVER;
});

export const httpProtocolValue = z.enum(['http', 'https'], { message: "must be 'http' or 'https'" });
