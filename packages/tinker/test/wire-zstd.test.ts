import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decompress as fzstdDecompress } from "fzstd";
import {
  Datum,
  encodeForwardBackwardRequestProto,
  scanZstdFrames,
  WireDecodeError,
  zstdCompress,
  zstdDecompress,
} from "tinker-ts/wire";
import { runModule } from "./helpers/child-module.js";

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const ascii = (s: string) => new TextEncoder().encode(s);

// Frames written by the reference zstd CLI 1.5.4, kept as bytes so the test needs no CLI.
// From stdin (`printf ... | zstd -19 -c --no-check`): no content size, one compressed block.
const CLI_STREAM_FRAME = "28b52ffd00689500006068656c6c6f2074696e6b65720100114b11";
const CLI_STREAM_TEXT = "hello hello hello hello hello hello tinker";
// From a file (`zstd -3`): single segment, content size 63, XXH64 checksum.
const CLI_FILE_FRAME =
  "28b52ffd243f4d0100140274696e6b6572207769726520666f726d6174207465737420766563746f722c2021010018a27a02e0b2590d";
const CLI_FILE_TEXT = "tinker wire format test vector, tinker wire format test vector!";

/** A frame of raw blocks with no content size: magic, FHD 0, window descriptor, blocks. */
function rawFrame(blocks: Uint8Array[]): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00];
  blocks.forEach((b, i) => {
    const header = (b.length << 3) | (0 << 1) | (i === blocks.length - 1 ? 1 : 0);
    parts.push(header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, ...b);
  });
  return Uint8Array.from(parts);
}

function body(): Uint8Array {
  const data = Array.from({ length: 40 }, (_, i) =>
    Datum.forNextTokenPrediction(Array.from({ length: 257 }, (_, j) => (i * 31 + j * 7) % 5000)).toWire(),
  );
  return encodeForwardBackwardRequestProto({ model_id: "m", seq_id: 1, data, loss_fn: "cross_entropy" });
}

describe("zstd", () => {
  it("compresses what fzstd (tinker-local's decoder) and zstdDecompress read back", async () => {
    const input = body();
    const packed = await zstdCompress(input);
    assert.ok(packed.length < input.length / 2, `compressed ${input.length} to ${packed.length}`);
    assert.deepEqual(fzstdDecompress(packed), input);
    assert.deepEqual(await zstdDecompress(packed), input);
    const [frame] = scanZstdFrames(packed);
    assert.equal(frame?.contentSize, input.length, "our frames declare their size");
  });

  it("decompresses frames from the reference CLI, with and without a declared size", async () => {
    assert.equal(text(await zstdDecompress(hex(CLI_STREAM_FRAME))), CLI_STREAM_TEXT);
    assert.equal(text(await zstdDecompress(hex(CLI_FILE_FRAME))), CLI_FILE_TEXT);
    assert.equal(scanZstdFrames(hex(CLI_STREAM_FRAME))[0]?.contentSize, undefined);
    assert.equal(scanZstdFrames(hex(CLI_FILE_FRAME))[0]?.contentSize, 63);
  });

  it("reads concatenated frames, raw blocks and skippable frames", async () => {
    const skippable = Uint8Array.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    const stream = Uint8Array.from([
      ...hex(CLI_FILE_FRAME),
      ...skippable,
      ...rawFrame([ascii("abc"), ascii("def")]),
      ...hex(CLI_STREAM_FRAME),
    ]);
    const out = await zstdDecompress(stream);
    assert.equal(text(out), `${CLI_FILE_TEXT}abcdef${CLI_STREAM_TEXT}`);
    assert.deepEqual(fzstdDecompress(stream), out, "fzstd agrees on the same stream");
    assert.deepEqual(
      scanZstdFrames(stream).map((f) => f.skippable),
      [false, true, false, false],
    );
  });

  it("refuses output beyond maxOutputBytes", async () => {
    await assert.rejects(zstdDecompress(hex(CLI_FILE_FRAME), { maxOutputBytes: 62 }), (err: unknown) => {
      assert.ok(err instanceof WireDecodeError);
      assert.match(err.message, /declares 63 decompressed bytes, more than the limit of 62/);
      return true;
    });
    await assert.rejects(zstdDecompress(hex(CLI_STREAM_FRAME), { maxOutputBytes: 10 }), WireDecodeError);
  });

  it("refuses a tiny frame that declares more than its blocks can hold", async () => {
    // Single segment, 4-byte content size 2^30, one raw block of 3 bytes.
    const liar = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0x40, 0x19, 0, 0, 97, 98, 99]);
    await assert.rejects(zstdDecompress(liar), /declares 1073741824 bytes but its blocks hold at most 3/);
  });

  it("rejects what is not zstd, truncated or corrupt", async () => {
    await assert.rejects(zstdDecompress(new Uint8Array(0)), /empty input/);
    await assert.rejects(zstdDecompress(ascii("not zstd at all")), /no zstd frame magic at byte 0/);
    const file = hex(CLI_FILE_FRAME);
    await assert.rejects(zstdDecompress(file.subarray(0, file.length - 6)), /truncated/);
    const corrupt = Uint8Array.from(file);
    corrupt[12] = corrupt[12]! ^ 0xff;
    corrupt[20] = corrupt[20]! ^ 0xff;
    await assert.rejects(zstdDecompress(corrupt), WireDecodeError);
  });

  it("loads the codec only when first used", async () => {
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((k) => k.includes("zstd-wasm"));
      const wire = await import("tinker-ts/wire");
      const before = loaded();
      await wire.zstdCompress(new Uint8Array(4));
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const { stdout } = await runModule(script, { timeoutMs: 30_000 });
    assert.deepEqual(JSON.parse(stdout.trim()), { before: false, after: true });
  });
});
