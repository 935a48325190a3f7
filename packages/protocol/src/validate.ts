import { AhcError, ERR } from '@ahc/errors';
import type { FromWorker, ToWorker } from './messages';
import { isLogLevel } from './service-spec';

/** Boundary checks for messages. Hand-written rather than zod so the worker bundle stays tiny. */
type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null;
}
function hasBase(value: Obj): boolean {
  return typeof value.type === 'string' && typeof value.service === 'string';
}
function isCounters(value: unknown): boolean {
  return (
    isObj(value) &&
    (value.state === 'up' || value.state === 'down' || value.state === 'unknown') &&
    typeof value.rise === 'number' &&
    typeof value.fail === 'number'
  );
}

function isId(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
function isNullableNumber(value: unknown): boolean {
  return value === null || typeof value === 'number';
}
function isSpawnResult(value: unknown): boolean {
  return (
    isObj(value) &&
    isNullableNumber(value.code) &&
    (value.signal === null || typeof value.signal === 'string') &&
    typeof value.timedOut === 'boolean' &&
    (value.spawnError === null ||
      (isObj(value.spawnError) && typeof value.spawnError.code === 'string' && typeof value.spawnError.message === 'string')) &&
    typeof value.stdout === 'string' &&
    typeof value.stderr === 'string' &&
    typeof value.truncated === 'boolean' &&
    typeof value.durationMs === 'number'
  );
}
function isAssignedValue(value: unknown): boolean {
  return value === true || value === false || value === null;
}

export class ProtocolError extends AhcError {
  override name = 'ProtocolError';
  constructor(message: string) {
    super(ERR.AHC_PROTOCOL, message);
  }
}

export function parseFromWorker(value: unknown): FromWorker {
  if (!isObj(value) || !hasBase(value)) throw new ProtocolError(`malformed message from a check worker: ${JSON.stringify(value)}`);
  switch (value.type) {
    case 'transition':
      if (
        (value.state === 'up' || value.state === 'down') &&
        (value.reason === 'check' || value.reason === 'ip-unassigned') &&
        isCounters(value.counters)
      ) {
        return value as unknown as FromWorker;
      }
      break;
    case 'result':
      if (typeof value.ok === 'boolean' && typeof value.durationMs === 'number' && isCounters(value.counters))
        return value as unknown as FromWorker;
      break;
    case 'log':
      if (
        typeof value.message === 'string' &&
        isLogLevel(value.level) &&
        (value.status === undefined || value.status === 'up' || value.status === 'down' || value.status === 'unknown')
      ) {
        return value as unknown as FromWorker;
      }
      break;
    case 'heartbeat':
      if (typeof value.at === 'number') return value as unknown as FromWorker;
      break;
    case 'error':
      if (isObj(value.error) && typeof value.error.message === 'string') return value as unknown as FromWorker;
      break;
    case 'spawn':
      if (
        isId(value.id) &&
        Array.isArray(value.argv) &&
        value.argv.every((a) => typeof a === 'string') &&
        typeof value.timeoutMs === 'number' &&
        typeof value.maxOutputBytes === 'number'
      )
        return value as unknown as FromWorker;
      break;
    case 'spawn-cancel':
      if (isId(value.id)) return value as unknown as FromWorker;
      break;
    default:
      break;
  }
  throw new ProtocolError(`malformed ${String(value.type)} message from a check worker: ${JSON.stringify(value)}`);
}

export function parseToWorker(value: unknown): ToWorker {
  if (!isObj(value) || !hasBase(value)) throw new ProtocolError(`malformed message to a check worker: ${JSON.stringify(value)}`);
  switch (value.type) {
    case 'start':
      if (
        isObj(value.spec) &&
        Array.isArray(value.spec.argv) &&
        isCounters(value.counters) &&
        (value.spawnVia === 'host' || value.spawnVia === 'self') &&
        isAssignedValue(value.ipAssigned)
      )
        return value as unknown as ToWorker;
      break;
    case 'spawn-result':
      if (isId(value.id) && isSpawnResult(value.result)) return value as unknown as ToWorker;
      break;
    case 'ip-state':
      if (isAssignedValue(value.assigned)) return value as unknown as ToWorker;
      break;
    case 'run-now':
    case 'stop':
      return value as unknown as ToWorker;
    case 'fault':
      if (
        value.kind === 'throw' ||
        value.kind === 'exit' ||
        value.kind === 'busy-loop' ||
        value.kind === 'stall-loop' ||
        value.kind === 'malformed'
      )
        return value as unknown as ToWorker;
      break;
    default:
      break;
  }
  throw new ProtocolError(`malformed ${String(value.type)} message to a check worker`);
}
