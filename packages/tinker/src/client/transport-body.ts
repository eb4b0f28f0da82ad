// A response whose body is a Node stream (node:http's IncomingMessage): decompressed
// as fetch would (gzip, deflate, br, per Content-Encoding), read once, as bytes, text or a web
// Response. Node only; imported by the Node transport, never by code that runs elsewhere.

import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { TransportResponse } from "./transport.js";

/** Statuses whose responses have no body (a web Response refuses one for them). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function decoderFor(coding: string): NodeJS.ReadWriteStream | undefined {
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return createGunzip();
    case "deflate":
      return createInflate();
    case "br":
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

/**
 * The body with every Content-Encoding undone, last applied first. An encoding fetch would not
 * know either (e.g. zstd) is left as is, as fetch leaves it.
 */
function decoded(body: Readable, contentEncoding: string | null): Readable {
  if (!contentEncoding) return body;
  const codings = contentEncoding
    .toLowerCase()
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "" && c !== "identity")
    .reverse();
  let stream: Readable = body;
  for (const coding of codings) {
    const decoder = decoderFor(coding);
    if (!decoder) return stream;
    const source = stream;
    // Errors of the source (an abort, a reset) must reach whoever reads the decoded end.
    source.once("error", (error) => (decoder as unknown as Readable).destroy(error));
    stream = source.pipe(decoder) as unknown as Readable;
  }
  return stream;
}

function collect(stream: Readable): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () => resolve(chunks));
    stream.once("error", reject);
  });
}

/**
 * A web stream pulling from a Node one. Not `Readable.toWeb`: on Node 20 it can close its controller
 * twice when the source ends and is then destroyed (ERR_INVALID_STATE, thrown as an uncaught error).
 */
function webStream(stream: Readable): ReadableStream<Uint8Array> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    async cancel(reason) {
      stream.destroy(reason instanceof Error ? reason : undefined);
    },
  });
}

/** A TransportResponse over a Node stream body. */
export class StreamResponse implements TransportResponse {
  private used = false;

  constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly body: Readable,
  ) {}

  private take(): Readable {
    if (this.used) throw new TypeError("The response body was already read");
    this.used = true;
    return decoded(this.body, this.headers.get("content-encoding"));
  }

  async bytes(): Promise<Uint8Array> {
    const chunks = await collect(this.take());
    // A tight copy: chunks can be views into larger socket buffers that must not leak to callers.
    let length = 0;
    for (const c of chunks) length += c.byteLength;
    const out = new Uint8Array(length);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }

  async text(): Promise<string> {
    const chunks = await collect(this.take());
    return chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
  }

  toResponse(): Response {
    const stream = this.take();
    if (NULL_BODY_STATUSES.has(this.status)) {
      stream.resume();
      return new Response(null, { status: this.status, headers: this.headers });
    }
    return new Response(webStream(stream), { status: this.status, headers: this.headers });
  }

  /** Reads and drops the body (a redirect hop), so the connection can serve the next request. */
  discard(): void {
    if (this.used) return;
    this.used = true;
    this.body.on("error", () => {});
    this.body.resume();
  }
}
