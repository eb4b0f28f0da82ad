// The protobuf wire itself, for the direct reader (proto-reader.ts): varints, fixed-width values,
// length-delimited spans and skipping unknown fields. Errors are WireDecodeErrors naming the
// message being read, as protobuf-es's errors are once the codec has wrapped them.

import { WireDecodeError } from "./errors.js";

const TWO_32 = 4294967296;
/** Largest magnitude of the high word of an int64 whose value is a safe JS integer. */
const SAFE_HIGH = 2 ** 21;
const utf8 = new TextDecoder();

/** Reads one message (or a nested one) between `pos` and `end` of a shared buffer. */
export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  readonly what: string;

  constructor(buf: Uint8Array, what: string, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.what = what;
  }

  fail(message: string): never {
    throw new WireDecodeError(`malformed protobuf: ${message}`, this.what);
  }

  /** A varint's low 32 bits as an unsigned number; the high bits are read and dropped. */
  uint32(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("premature end of data in a varint");
      const b = buf[this.pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) return result >>> 0;
    }
    return this.fail("varint longer than 10 bytes");
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /** An int64 varint as a number; outside ±(2^53 − 1) is an error (not a silent rounding). */
  int64(what: string): number {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("premature end of data in a varint");
      const b = buf[this.pos++]!;
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (shift - 32);
      shift += 7;
      if ((b & 0x80) === 0) {
        const high = hi | 0;
        const low = lo >>> 0;
        if (high >= SAFE_HIGH || high < -SAFE_HIGH || (high === -SAFE_HIGH && low === 0)) {
          throw new WireDecodeError(
            `int64 value ${BigInt(high) * 4294967296n + BigInt(low)} is outside the safe integer range`,
            what,
          );
        }
        return high * TWO_32 + low;
      }
    }
    return this.fail("varint longer than 10 bytes");
  }

  double(): number {
    if (this.pos + 8 > this.end) this.fail("premature end of data in a double");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** Start and end of a length-delimited field's bytes; the reader moves past them. */
  span(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    if (len > this.end - start) this.fail(`length ${len} runs past the end of the data`);
    this.pos = start + len;
    return [start, start + len];
  }

  bytes(): Uint8Array {
    const [start, end] = this.span();
    return this.buf.subarray(start, end);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A nested message's reader. */
  sub(): Reader {
    const [start, end] = this.span();
    return new Reader(this.buf, this.what, start, end);
  }

  skip(wireType: number, field: number): void {
    switch (wireType) {
      case 0:
        this.uint32();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.span();
        return;
      case 5:
        this.advance(4);
        return;
      case 3:
        for (;;) {
          const t = this.uint32();
          if ((t & 7) === 4) {
            if (t >>> 3 !== field) this.fail("unbalanced group");
            return;
          }
          this.skip(t & 7, t >>> 3);
        }
      default:
        this.fail(`unexpected wire type ${wireType}`);
    }
  }

  advance(n: number): void {
    if (n > this.end - this.pos) this.fail("premature end of data");
    this.pos += n;
  }

  /** Repeated int64, packed or not (a parser must accept both). */
  int64s(into: number[], wireType: number, what: string): void {
    if (wireType === 2) {
      const r = this.sub();
      while (r.pos < r.end) into.push(r.int64(what));
    } else into.push(this.int64(what));
  }

  expect(wireType: number, want: number, field: number): void {
    if (wireType !== want) this.fail(`field ${field} has wire type ${wireType}, expected ${want}`);
  }
}
