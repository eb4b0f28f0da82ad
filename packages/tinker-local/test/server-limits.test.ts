// Limits an attacker (or a broken client) could otherwise push past (issue 8, item 5), over real
// HTTP: a request body that stalls, a zstd frame holding more than it declares, an empty protobuf
// body, and requests parked behind a seq_id gap.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { encodeForwardBackwardRequestProto } from "tinker-ts/wire";
import { call, createSession, DEFAULT_KEY, errorDetail } from "./helpers/server-http.js";
import {
  ceDatum,
  createModel,
  optimStep,
  PROTOBUF,
  poll,
  postForwardBackward,
  TEXT,
} from "./helpers/training-http.js";

/**
 * A zstd frame (RFC 8878) that declares `declared` bytes of content but holds `blocks` RLE blocks
 * of `blockSize` bytes each: a few bytes on the wire that inflate far past what the header says.
 */
function lyingZstdFrame(declared: number, blocks: number, blockSize: number, byte = 0x41): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 1 << 6; // 2-byte frame content size, windowed (not single-segment), no checksum
  header[5] = (17 - 10) << 3; // window 128 KiB
  header.writeUInt16LE(declared - 256, 6);
  const parts = [header];
  for (let i = 0; i < blocks; i++) {
    const h = (blockSize << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    parts.push(Buffer.from([h & 255, (h >> 8) & 255, (h >> 16) & 255, byte]));
  }
  return Buffer.concat(parts);
}

describe("request limits", () => {
  let server: LocalServer;
  let sessionId: string;
  let modelId: string;

  before(async () => {
    server = await startServer({
      port: 0,
      requestTimeoutMs: 300,
      maxHeldRequestsPerModel: 3,
      maxHeldBytesPerModel: 64 * 1024,
    });
    sessionId = await createSession(server.url);
    modelId = await createModel(server.url, sessionId, 0);
  });
  after(() => server.close());

  test("a request body that stalls is answered 408 {detail} and its connection is closed", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1");
      let out = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        out += chunk;
      });
      // Resolves only once the server has closed the connection: it was released.
      socket.on("close", () => resolve(out));
      socket.on("error", reject);
      const body = JSON.stringify({ session_id: sessionId, type: "session_heartbeat" });
      socket.write(
        `POST /api/v1/session_heartbeat HTTP/1.1\r\nHost: x\r\nX-API-Key: ${DEFAULT_KEY}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n${body.slice(0, 10)}`,
      );
    });
    const [head = "", body = ""] = answer.split("\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 408 /, answer);
    assert.match(head, /connection: close/i);
    const json = JSON.parse(body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), ["detail"]);
    assert.match(String(json.detail), /timed out/);
    // The server still answers afterwards.
    const again = await call(server.url, "GET", "/api/v1/healthz");
    assert.equal(again.status, 200);
  });

  test("a zstd frame holding more than its declared content size is refused with a 400", async () => {
    const proto = Buffer.from(
      encodeForwardBackwardRequestProto({
        model_id: modelId,
        seq_id: 1,
        data: [ceDatum(TEXT)],
        loss_fn: "cross_entropy",
      }),
    );
    // A frame that declares 300 bytes but holds 1000 x 128 KiB (128 MiB, past the 64 MiB limit):
    // decoded as declared it would be silently cut to 300 bytes; inflated whole, it would allocate
    // 128 MiB. Neither may happen.
    for (const [frame, why] of [
      [lyingZstdFrame(300, 1000, 128 * 1024), "inflates past the limit"],
      [lyingZstdFrame(300, 2, 1000), "a little more than declared"],
    ] as const) {
      const answer = await call(server.url, "POST", "/api/v1/forward_backward", {
        key: DEFAULT_KEY,
        body: frame,
        headers: { "content-type": PROTOBUF, "content-encoding": "zstd" },
      });
      assert.equal(answer.status, 400, `${why}: ${answer.text}`);
      assert.match(errorDetail(answer), /declares 300 bytes/, why);
    }
    // A frame that tells the truth still works.
    assert.ok(proto.length > 0);
    const ok = await postForwardBackward(server.url, modelId, 1, [ceDatum(TEXT)], { encoding: "zstd" });
    assert.equal(ok.status, 200, ok.text);
    const id = (ok.json as { request_id: string }).request_id;
    assert.equal((await poll(server.url, id, { accept: PROTOBUF })).status, 200);
  });

  test("an empty protobuf forward_backward body is a 400 naming the missing field", async () => {
    for (const encoding of [undefined, "zstd-empty-frame"] as const) {
      const headers: Record<string, string> = { "content-type": PROTOBUF };
      let body = Buffer.alloc(0);
      if (encoding !== undefined) {
        headers["content-encoding"] = "zstd";
        // A valid frame of zero bytes: raw block of size 0, content size 0 (single segment).
        body = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00]);
      }
      const answer = await call(server.url, "POST", "/api/v1/forward_backward", {
        key: DEFAULT_KEY,
        body,
        headers,
      });
      assert.equal(answer.status, 400, answer.text);
      assert.match(errorDetail(answer), /'model_id'/);
    }
  });

  test("requests held behind a seq_id gap are bounded per model, by count and by bytes, with a 429", async () => {
    const held = await createModel(server.url, sessionId, 1);
    const other = await createModel(server.url, sessionId, 2);
    // seq 1 is missing: 2, 3, 4 are held; a fourth held one is refused.
    for (const seq of [2, 3, 4]) {
      const answer = await postForwardBackward(server.url, held, seq, [ceDatum(TEXT)]);
      assert.equal(answer.status, 200, answer.text);
    }
    const refused = await postForwardBackward(server.url, held, 5, [ceDatum(TEXT)]);
    assert.equal(refused.status, 429, refused.text);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.match(errorDetail(refused), /3 requests .*seq_id 1/);
    assert.deepEqual(server.models.heldSeqIds(held), [2, 3, 4]);
    // Bytes: one body past the byte budget cannot be held on another model, though the count allows it.
    const big = [ceDatum("x".repeat(70_000))];
    const tooBig = await postForwardBackward(server.url, other, 2, big);
    assert.equal(tooBig.status, 429, tooBig.text);
    assert.match(errorDetail(tooBig), /bytes/);
    assert.deepEqual(server.models.heldSeqIds(other), []);
    // Filling the gap runs what was held, frees the budget, and the refused seq is accepted now.
    await optimStep(server.url, held, 1);
    await server.models.idle();
    assert.deepEqual(server.models.heldSeqIds(held), []);
    const retried = await postForwardBackward(server.url, held, 5, [ceDatum(TEXT)]);
    assert.equal(retried.status, 200, retried.text);
    await server.models.idle();
    assert.deepEqual(server.models.appliedSeqIds(held), [1, 2, 3, 4, 5]);
  });
});
