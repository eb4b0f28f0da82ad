// A protobuf wire-format reader just big enough to put map entries in one order, so two encodings
// can be compared byte for byte. Protobuf leaves the order of map entries open, and the official
// Python SDK's order changes from one process to the next; everything else (field order, packing,
// lengths, defaults left out) must be equal. Independent of the codecs under test on purpose.

/** Which fields of a message are maps, and which length-delimited fields are nested messages. */
export interface MessageShape {
  maps?: readonly number[];
  children?: Readonly<Record<number, MessageShape>>;
}

interface RawField {
  no: number;
  /** The whole field: tag, length prefix and payload. */
  bytes: Uint8Array;
  /** Where the payload starts inside `bytes` (length-delimited fields only). */
  payloadAt?: number;
}

function readVarint(buf: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  throw new Error(`truncated varint at byte ${at}`);
}

function readFields(buf: Uint8Array): RawField[] {
  const fields: RawField[] = [];
  let at = 0;
  while (at < buf.length) {
    const start = at;
    const [tag, afterTag] = readVarint(buf, at);
    const no = Math.floor(tag / 8);
    const wireType = tag & 7;
    let end: number;
    let payloadAt: number | undefined;
    if (wireType === 0) end = readVarint(buf, afterTag)[1];
    else if (wireType === 1) end = afterTag + 8;
    else if (wireType === 5) end = afterTag + 4;
    else if (wireType === 2) {
      const [len, afterLen] = readVarint(buf, afterTag);
      payloadAt = afterLen - start;
      end = afterLen + len;
    } else throw new Error(`wire type ${wireType} at byte ${start}`);
    if (end > buf.length) throw new Error(`field ${no} at byte ${start} runs past the end`);
    fields.push({ no, bytes: buf.subarray(start, end), ...(payloadAt !== undefined ? { payloadAt } : {}) });
    at = end;
  }
  return fields;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * `buf` with every map's entries sorted (by their bytes, i.e. by key for one key type) at the place
 * of the map's first entry, recursively. Reordering inside a message keeps its length, so no length
 * prefix changes.
 */
export function canonicalProto(buf: Uint8Array, shape: MessageShape): Uint8Array {
  const fields = readFields(buf).map((f) => {
    const child = shape.children?.[f.no];
    if (child === undefined || f.payloadAt === undefined) return f;
    const inner = canonicalProto(f.bytes.subarray(f.payloadAt), child);
    const bytes = new Uint8Array(f.bytes.length);
    bytes.set(f.bytes.subarray(0, f.payloadAt));
    bytes.set(inner, f.payloadAt);
    return { ...f, bytes };
  });
  const out: Uint8Array[] = [];
  const emitted = new Set<number>();
  for (const f of fields) {
    if (!shape.maps?.includes(f.no)) {
      out.push(f.bytes);
      continue;
    }
    if (emitted.has(f.no)) continue;
    emitted.add(f.no);
    const entries = fields.filter((g) => g.no === f.no).map((g) => g.bytes);
    out.push(...entries.sort(compareBytes));
  }
  const result = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of out) {
    result.set(b, at);
    at += b.length;
  }
  return result;
}

/** tinker_public.ForwardBackwardRequest: loss_fn_config (5) and Datum.loss_fn_inputs (2) are maps. */
export const FORWARD_BACKWARD_REQUEST_SHAPE: MessageShape = { maps: [5], children: { 3: { maps: [2] } } };

/**
 * `body` (a ForwardBackwardRequest) with its leading model_id (field 1) and seq_id (field 2)
 * replaced: both SDKs write fields in number order, so the rest of the body is untouched.
 */
export function withRequestHeader(body: Uint8Array, modelId: string, seqId: number): Uint8Array {
  const fields = readFields(body);
  if (fields[0]?.no !== 1 || fields[1]?.no !== 2)
    throw new Error("body does not start with model_id, seq_id");
  const id = new TextEncoder().encode(modelId);
  const header = [0x0a, ...varint(id.length), ...id, 0x10, ...varint(seqId)];
  const rest = body.subarray(fields[0].bytes.length + fields[1].bytes.length);
  return Uint8Array.from([...header, ...rest]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}
