import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReplyDecoder, SpawnProtocolError, decodeReply, encodeCancel, encodeReply, encodeRun } from '../src/spawn-protocol';
import type { DoneReply, SpawnReply } from '../src/spawn-protocol';

const done = (over: Partial<DoneReply> = {}): DoneReply => ({
  type: 'done',
  id: 7,
  kind: 'exited',
  truncated: false,
  code: 3,
  signal: 0,
  durationUs: 1234,
  errno: '',
  stdout: Buffer.from('out\n'),
  stderr: Buffer.from('err\n'),
  ...over,
});

describe('spawn protocol codec', () => {
  it('encodes a run as the helper reads it: length, type, id, timeout, max output, argc, strings', () => {
    const f = encodeRun({ id: 258, timeoutMs: 1500, maxOutput: 4096, argv: ['sh', '-c', 'é'] });
    expect(f.readUInt32LE(0)).toBe(f.length - 4);
    expect(f[4]).toBe(0x01);
    expect(f.readUInt32LE(5)).toBe(258);
    expect(f.readUInt32LE(9)).toBe(1500);
    expect(f.readUInt32LE(13)).toBe(4096);
    expect(f.readUInt32LE(17)).toBe(3);
    expect(f.readUInt32LE(21)).toBe(2);
    expect(f.subarray(25, 27).toString()).toBe('sh');
    // a UTF-8 argument is counted in bytes
    expect(f.readUInt32LE(f.length - 6)).toBe(2);
    expect(f.subarray(f.length - 2).toString()).toBe('é');
  });

  it('rounds a fractional timeout up and refuses what the helper cannot carry', () => {
    expect(encodeRun({ id: 1, timeoutMs: 0.2, maxOutput: 1, argv: ['x'] }).readUInt32LE(9)).toBe(1);
    expect(() => encodeRun({ id: 1, timeoutMs: 1, maxOutput: 1, argv: [] })).toThrow(SpawnProtocolError);
    expect(() => encodeRun({ id: 1, timeoutMs: 1, maxOutput: 1, argv: ['a\0b'] })).toThrow(SpawnProtocolError);
    expect(() => encodeRun({ id: 1, timeoutMs: 1, maxOutput: 1, argv: ['x'.repeat(1 << 20)] })).toThrow(/too long/);
  });

  it('encodes a cancel', () => {
    expect([...encodeCancel(0x01020304)]).toEqual([5, 0, 0, 0, 0x02, 4, 3, 2, 1]);
  });

  it('decodes started and done replies, a negative code as no code', () => {
    expect(decodeReply(encodeReply({ type: 'started', id: 9, pid: 4242 }).subarray(4))).toEqual({ type: 'started', id: 9, pid: 4242 });
    expect(decodeReply(encodeReply(done()).subarray(4))).toEqual(done());
    const killed = decodeReply(encodeReply(done({ kind: 'timed-out', code: null, signal: 9, truncated: true })).subarray(4));
    expect(killed).toMatchObject({ kind: 'timed-out', code: null, signal: 9, truncated: true });
  });

  it('splits a byte stream cut anywhere into the same replies', () => {
    const replies: SpawnReply[] = [
      { type: 'started', id: 1, pid: 100 },
      done({ id: 1 }),
      done({ id: 2, kind: 'spawn-error', code: 127, errno: 'ENOENT', stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }),
    ];
    const stream = Buffer.concat(replies.map(encodeReply));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 8 }), (cuts) => {
        const points = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
        const decoder = new ReplyDecoder();
        const got: SpawnReply[] = [];
        for (let i = 1; i < points.length; i++) got.push(...decoder.push(stream.subarray(points[i - 1], points[i])));
        expect(got).toEqual(replies);
        expect(decoder.buffered).toBe(0);
      }),
    );
  });

  it('refuses frames that are not in the protocol', () => {
    const bad = (body: number[]) => () => new ReplyDecoder().push(Buffer.concat([Buffer.from([body.length, 0, 0, 0]), Buffer.from(body)]));
    expect(bad([0x42])).toThrow(/unknown reply type 0x42/);
    expect(bad([0x81, 1, 0, 0, 0])).toThrow(/started frame/);
    expect(bad([0x82, 1, 0, 0, 0])).toThrow(/done frame/);
    const wrongKind = encodeReply(done());
    wrongKind[9] = 9;
    expect(() => new ReplyDecoder().push(wrongKind)).toThrow(/kind 9/);
    const longString = encodeReply(done());
    longString.writeUInt32LE(1000, 4 + 23); // errno length past the end
    expect(() => new ReplyDecoder().push(longString)).toThrow(/inside a string/);
  });
});
