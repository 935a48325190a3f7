/**
 * The codec of the ahc-spawn protocol (the helper is packages/spawn-helper/src/ahc-spawn.c, whose
 * header is the reference; docs/design.md, "Spawning checks: the ahc-spawn helper"). Pure: bytes
 * in, values out.
 *
 * Every message is a frame: u32 length of what follows, then that many bytes, the first of
 * which is the type. Integers are little-endian; a string is u32 length + bytes.
 *
 *   daemon -> helper  0x01 run     u32 id, u32 timeout_ms, u32 max_output, u32 argc, argc x string
 *                     0x02 cancel  u32 id
 *   helper -> daemon  0x81 started u32 id, u32 pid
 *                     0x82 done    u32 id, u8 kind, u8 truncated, i32 code, u32 signal,
 *                                  u64 duration_us, string errno_name, string stdout, string stderr
 */

import { AhcError, ERR } from '@ahc/errors';

export const REQ_RUN = 0x01;
export const REQ_CANCEL = 0x02;
export const REP_STARTED = 0x81;
export const REP_DONE = 0x82;

/** The largest frame the helper accepts (a run's argv must fit). */
export const MAX_REQUEST_FRAME = 1 << 20;

export const DONE_KINDS = ['exited', 'signaled', 'timed-out', 'spawn-error', 'aborted'] as const;
export type DoneKind = (typeof DONE_KINDS)[number];

export interface RunRequest {
  readonly id: number;
  readonly timeoutMs: number;
  readonly maxOutput: number;
  readonly argv: readonly string[];
}

export interface StartedReply {
  readonly type: 'started';
  readonly id: number;
  readonly pid: number;
}

export interface DoneReply {
  readonly type: 'done';
  readonly id: number;
  readonly kind: DoneKind;
  readonly truncated: boolean;
  /** The exit code; null when there is none (killed). For a spawn error 127 (ENOENT) or 126. */
  readonly code: number | null;
  /** The signal number that ended the process, or 0. */
  readonly signal: number;
  readonly durationUs: number;
  /** For a spawn error the errno's name (`ENOENT`), else ''. */
  readonly errno: string;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export type SpawnReply = StartedReply | DoneReply;

export class SpawnProtocolError extends AhcError {
  override name = 'SpawnProtocolError';
  constructor(message: string) {
    super(ERR.AHC_SPAWN_PROTOCOL, message);
  }
}

const u32 = (value: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(value >>> 0, 0);
  return b;
};

function frame(body: Buffer[]): Buffer {
  const length = body.reduce((n, b) => n + b.length, 0);
  return Buffer.concat([u32(length), ...body], 4 + length);
}

/** A run frame. Throws when argv is empty, holds a NUL byte or does not fit a frame (the caller
 * runs such a command itself). */
export function encodeRun(request: RunRequest): Buffer {
  if (request.argv.length === 0) throw new SpawnProtocolError('empty argv');
  const head = Buffer.allocUnsafe(17);
  head.writeUInt8(REQ_RUN, 0);
  head.writeUInt32LE(request.id >>> 0, 1);
  head.writeUInt32LE(Math.min(Math.max(0, Math.ceil(request.timeoutMs)), 0xffffffff), 5);
  head.writeUInt32LE(Math.min(Math.max(0, request.maxOutput), 0xffffffff), 9);
  head.writeUInt32LE(request.argv.length, 13);
  const parts: Buffer[] = [head];
  for (const arg of request.argv) {
    if (arg.includes('\0')) throw new SpawnProtocolError('an argument holds a NUL byte');
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(u32(bytes.length), bytes);
  }
  const out = frame(parts);
  if (out.length - 4 > MAX_REQUEST_FRAME) throw new SpawnProtocolError(`argv of ${out.length} bytes is too long for a frame`);
  return out;
}

export function encodeCancel(id: number): Buffer {
  const body = Buffer.allocUnsafe(5);
  body.writeUInt8(REQ_CANCEL, 0);
  body.writeUInt32LE(id >>> 0, 1);
  return frame([body]);
}

/**
 * Splits a byte stream into replies. `push` returns the replies complete so far; a partial frame
 * waits for more bytes. A frame that does not parse throws SpawnProtocolError (the stream is then
 * unusable: the helper is restarted).
 */
export class ReplyDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** Bytes received but not yet a whole frame. */
  get buffered(): number {
    return this.#pending.length;
  }

  push(chunk: Buffer): SpawnReply[] {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const replies: SpawnReply[] = [];
    while (data.length >= 4) {
      const length = data.readUInt32LE(0);
      if (data.length - 4 < length) break;
      replies.push(decodeReply(data.subarray(4, 4 + length)));
      data = data.subarray(4 + length);
    }
    // Copy the rest: a subarray would keep the whole chunk alive.
    this.#pending = Buffer.from(data);
    return replies;
  }
}

/** One frame's body (type byte first). */
export function decodeReply(body: Buffer): SpawnReply {
  if (body.length < 1) throw new SpawnProtocolError('empty frame');
  const type = body[0];
  if (type === REP_STARTED) {
    if (body.length !== 9) throw new SpawnProtocolError(`started frame of ${body.length} bytes`);
    return { type: 'started', id: body.readUInt32LE(1), pid: body.readUInt32LE(5) };
  }
  if (type !== REP_DONE) throw new SpawnProtocolError(`unknown reply type 0x${(type ?? 0).toString(16)}`);
  if (body.length < 35) throw new SpawnProtocolError(`done frame of ${body.length} bytes`);
  const kind = DONE_KINDS[body.readUInt8(5)];
  if (kind === undefined) throw new SpawnProtocolError(`done with kind ${body.readUInt8(5)}`);
  const truncatedByte = body.readUInt8(6);
  if (truncatedByte > 1) throw new SpawnProtocolError(`done with truncated = ${truncatedByte}`);
  const code = body.readInt32LE(7);
  let offset = 23;
  const str = (): Buffer => {
    if (body.length - offset < 4) throw new SpawnProtocolError('done frame ends inside a string length');
    const n = body.readUInt32LE(offset);
    offset += 4;
    if (body.length - offset < n) throw new SpawnProtocolError('done frame ends inside a string');
    const s = body.subarray(offset, offset + n);
    offset += n;
    return s;
  };
  const errno = str().toString('latin1');
  const stdout = Buffer.from(str());
  const stderr = Buffer.from(str());
  if (offset !== body.length) throw new SpawnProtocolError(`${body.length - offset} bytes after a done reply`);
  return {
    type: 'done',
    id: body.readUInt32LE(1),
    kind,
    truncated: truncatedByte === 1,
    code: code < 0 ? null : code,
    signal: body.readUInt32LE(11),
    durationUs: Number(body.readBigUInt64LE(15)),
    errno,
    stdout,
    stderr,
  };
}

/** Test and tooling use: a reply as the helper writes it. */
export function encodeReply(reply: SpawnReply): Buffer {
  if (reply.type === 'started') {
    const b = Buffer.allocUnsafe(9);
    b.writeUInt8(REP_STARTED, 0);
    b.writeUInt32LE(reply.id, 1);
    b.writeUInt32LE(reply.pid, 5);
    return frame([b]);
  }
  const head = Buffer.allocUnsafe(23);
  head.writeUInt8(REP_DONE, 0);
  head.writeUInt32LE(reply.id, 1);
  head.writeUInt8(DONE_KINDS.indexOf(reply.kind), 5);
  head.writeUInt8(reply.truncated ? 1 : 0, 6);
  head.writeInt32LE(reply.code ?? -1, 7);
  head.writeUInt32LE(reply.signal, 11);
  head.writeBigUInt64LE(BigInt(reply.durationUs), 15);
  const errno = Buffer.from(reply.errno, 'latin1');
  return frame([head, u32(errno.length), errno, u32(reply.stdout.length), reply.stdout, u32(reply.stderr.length), reply.stderr]);
}
