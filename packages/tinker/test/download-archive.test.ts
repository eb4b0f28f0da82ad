// Downloading and extracting checkpoint archives: hostile and broken archives are refused with a
// clear error and leave nothing behind (no target, no staging directory, nothing outside); good ones
// land atomically. The archives are served by a real HTTP server on 127.0.0.1, which also records the
// request headers to prove no credential is sent to the signed URL.

import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import {
  APITimeoutError,
  APIUserAbortError,
  PermissionDeniedError,
  TinkerError,
  ValidationError,
} from "tinker-ts";
import { CHECKPOINT_FILES, type DownloadProgress, downloadArchive } from "../src/download/download.js";
import { ArchiveError, extractTar, safeEntrySegments } from "../src/download/extract.js";
import { makeTar, type TarEntry } from "./helpers/tar.js";

type Handler = (res: ServerResponse) => void;

const CONFIG = JSON.stringify({ peft_type: "LORA", r: 4 });
const WEIGHTS = new Uint8Array(3000).map((_, i) => (i * 7) % 251);
const GOOD: TarEntry[] = [
  { name: "adapter_config.json", data: CONFIG },
  { name: "adapter_model.safetensors", data: WEIGHTS },
];

function sendBytes(bytes: Uint8Array, headers: Record<string, string> = {}): Handler {
  return (res) => {
    res.writeHead(200, {
      "content-type": "application/x-tar",
      "content-length": String(bytes.length),
      ...headers,
    });
    res.end(Buffer.from(bytes));
  };
}

describe("downloadArchive", () => {
  let server: Server;
  let base: string;
  const routes = new Map<string, Handler>();
  const seenHeaders: IncomingHttpHeaders[] = [];
  let work: string;

  before(async () => {
    server = createServer((req, res) => {
      seenHeaders.push(req.headers);
      const handler = routes.get(req.url ?? "");
      if (!handler) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"detail":"no such archive"}');
        return;
      }
      handler(res);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  });
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "tinker-dl-test-"));
    seenHeaders.length = 0;
  });

  /** The test's working directory holds exactly `names` (no staging leftovers). */
  function assertOnly(names: string[]): void {
    assert.deepEqual(readdirSync(work).sort(), [...names].sort());
  }

  async function refused(
    bytes: Uint8Array,
    pattern: RegExp,
    ErrorClass: new (...a: never[]) => Error = ArchiveError,
  ) {
    routes.set("/bad.tar", sendBytes(bytes));
    const target = join(work, "ckpt");
    await assert.rejects(
      downloadArchive(`${base}/bad.tar`, target, { requiredFiles: CHECKPOINT_FILES }),
      (e) => {
        assert.ok(e instanceof ErrorClass, `expected ${ErrorClass.name}, got ${String(e)}`);
        assert.match((e as Error).message, pattern);
        return true;
      },
    );
    assertOnly([]);
  }

  it("downloads, extracts and places a checkpoint, reporting progress, with no credentials sent", async () => {
    const tar = makeTar(GOOD);
    routes.set("/good.tar?sig=secret-token", sendBytes(tar));
    const progress: DownloadProgress[] = [];
    const target = join(work, "nested", "ckpt");
    const result = await downloadArchive(`${base}/good.tar?sig=secret-token`, target, {
      requiredFiles: CHECKPOINT_FILES,
      onProgress: (p) => progress.push({ ...p }),
    });
    assert.equal(result.dir, target);
    assert.deepEqual(result.files, ["adapter_config.json", "adapter_model.safetensors"]);
    assert.equal(result.archiveBytes, tar.length);
    assert.equal(readFileSync(join(target, "adapter_config.json"), "utf8"), CONFIG);
    assert.deepEqual(new Uint8Array(readFileSync(join(target, "adapter_model.safetensors"))), WEIGHTS);
    assert.deepEqual(readdirSync(join(work, "nested")), ["ckpt"], "no staging directory left beside it");
    assert.deepEqual(progress[0], { receivedBytes: 0, totalBytes: tar.length });
    assert.deepEqual(progress.at(-1), { receivedBytes: tar.length, totalBytes: tar.length });
    for (let i = 1; i < progress.length; i++) {
      assert.ok((progress[i]?.receivedBytes ?? 0) >= (progress[i - 1]?.receivedBytes ?? 0));
    }
    assert.equal(seenHeaders.length, 1);
    const headers = seenHeaders[0] ?? {};
    assert.equal(headers["x-api-key"], undefined);
    assert.equal(headers.authorization, undefined);
    assert.equal(headers.cookie, undefined);
  });

  it("accepts a gzip-compressed tar and entries under ./ and in directories", async () => {
    const tar = makeTar([
      { name: "./", type: "directory" },
      { name: "./adapter_config.json", data: CONFIG },
      { name: "./adapter_model.safetensors", data: WEIGHTS },
      { name: "extra/", type: "directory" },
      { name: "extra/notes.txt", data: "hello" },
    ]);
    routes.set("/good.tar.gz", sendBytes(gzipSync(tar)));
    const target = join(work, "ckpt");
    const result = await downloadArchive(`${base}/good.tar.gz`, target, { requiredFiles: CHECKPOINT_FILES });
    assert.deepEqual(result.files, ["adapter_config.json", "adapter_model.safetensors", "extra/notes.txt"]);
    assert.equal(readFileSync(join(target, "extra", "notes.txt"), "utf8"), "hello");
  });

  it("refuses '../evil' and writes nothing outside or inside the target", async () => {
    await refused(
      makeTar([...GOOD, { name: "../evil", data: "pwned" }]),
      /Refusing entry "\.\.\/evil": '\.\.' would write outside/,
    );
    assert.equal(existsSync(join(work, "..", "evil")), false);
    await refused(makeTar([{ name: "a/../../evil2", data: "x" }, ...GOOD]), /'\.\.' would write outside/);
  });

  it("refuses an absolute path", async () => {
    const outside = join(work, "abs-evil");
    await refused(makeTar([{ name: outside, data: "pwned" }, ...GOOD]), /absolute paths are not allowed/);
    assert.equal(existsSync(outside), false);
  });

  it("refuses symbolic links and hard links, inside or out", async () => {
    await refused(
      makeTar([...GOOD, { name: "link", type: "symlink", linkname: "/etc/passwd" }]),
      /Refusing entry "link" -> "\/etc\/passwd": it is a symbolic link; .*only regular files and directories/,
    );
    await refused(
      makeTar([...GOOD, { name: "inner", type: "symlink", linkname: "adapter_config.json" }]),
      /symbolic link/,
    );
    await refused(
      makeTar([...GOOD, { name: "hard", type: "link", linkname: "../../x" }]),
      /it is a hard link/,
    );
    await refused(makeTar([...GOOD, { name: "pipe", type: "fifo" }]), /it is a fifo/);
  });

  it("refuses a truncated archive (mid-entry, and exactly between entries)", async () => {
    const tar = makeTar(GOOD);
    await refused(tar.subarray(0, 512 + 700), /cut off/);
    const withoutEnd = makeTar(GOOD, { end: false });
    await refused(withoutEnd.subarray(0, 1024), /cut off.*end-of-archive marker|cut off/);
    await refused(withoutEnd, /end-of-archive marker/);
    await refused(gzipSync(tar).subarray(0, 60), /gzip data is damaged or cut off/);
  });

  it("refuses a download shorter than its Content-Length", async () => {
    const tar = makeTar(GOOD);
    routes.set("/short.tar", (res) => {
      res.writeHead(200, { "content-length": String(tar.length + 4096) });
      res.write(Buffer.from(tar), () => res.socket?.destroy());
    });
    await assert.rejects(downloadArchive(`${base}/short.tar`, join(work, "ckpt")), (e) => {
      assert.ok(e instanceof TinkerError);
      assert.match(e.message, /ended after \d+ of \d+ bytes|download failed/);
      return true;
    });
    assertOnly([]);
  });

  it("refuses non-tar data, duplicates and file/directory clashes", async () => {
    await refused(
      new TextEncoder().encode("<html>not an archive</html>".padEnd(600, " ")),
      /not a valid tar/,
    );
    await refused(makeTar([...GOOD, { name: "adapter_config.json", data: "again" }]), /more than once/);
    await refused(
      makeTar([...GOOD, { name: "x", data: "file" }, { name: "x/y", data: "child" }]),
      /needs a directory/,
    );
  });

  it("says clearly when the adapter files are missing", async () => {
    await refused(
      makeTar([
        { name: "adapter_config.json", data: CONFIG },
        { name: "model.pt", data: "x" },
      ]),
      /missing adapter_model\.safetensors or adapter_model\.bin \(it holds adapter_config\.json, model\.pt\)/,
    );
  });

  it("refuses a non-empty target unless forced; replaces it atomically with force", async () => {
    const target = join(work, "ckpt");
    mkdirSync(target);
    writeFileSync(join(target, "old.txt"), "old");
    routes.set("/good.tar", sendBytes(makeTar(GOOD)));
    await assert.rejects(downloadArchive(`${base}/good.tar`, target), (e) => {
      assert.ok(e instanceof ValidationError);
      assert.match(e.message, /already exists and is not empty; pass force/);
      return true;
    });
    assert.equal(seenHeaders.length, 0, "refused before any request");
    await downloadArchive(`${base}/good.tar`, target, { force: true });
    assert.deepEqual(readdirSync(target).sort(), ["adapter_config.json", "adapter_model.safetensors"]);
    assertOnly(["ckpt"]);

    // A failed forced download keeps the old contents.
    routes.set("/bad.tar", sendBytes(makeTar([{ name: "../x", data: "x" }])));
    await assert.rejects(downloadArchive(`${base}/bad.tar`, target, { force: true }), ArchiveError);
    assert.deepEqual(readdirSync(target).sort(), ["adapter_config.json", "adapter_model.safetensors"]);
    assertOnly(["ckpt"]);

    // An empty existing directory is simply filled.
    const empty = join(work, "empty");
    mkdirSync(empty);
    await downloadArchive(`${base}/good.tar`, empty);
    assert.equal(readdirSync(empty).length, 2);
    writeFileSync(join(work, "file"), "x");
    await assert.rejects(downloadArchive(`${base}/good.tar`, join(work, "file")), /not a directory/);
  });

  it("an abort mid-download leaves nothing behind", async () => {
    const tar = makeTar(GOOD);
    routes.set("/slow.tar", (res) => {
      res.writeHead(200, { "content-length": String(tar.length) });
      res.write(Buffer.from(tar.subarray(0, 1024)));
      // ...and never the rest.
    });
    const controller = new AbortController();
    const pending = downloadArchive(`${base}/slow.tar`, join(work, "ckpt"), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.receivedBytes > 0) controller.abort();
      },
    });
    await assert.rejects(pending, APIUserAbortError);
    assertOnly([]);
  });

  it("a stalled download fails after the idle timeout", async () => {
    const tar = makeTar(GOOD);
    routes.set("/stall.tar", (res) => {
      res.writeHead(200, { "content-length": String(tar.length) });
      res.write(Buffer.from(tar.subarray(0, 512)));
    });
    await assert.rejects(
      downloadArchive(`${base}/stall.tar`, join(work, "ckpt"), { idleTimeout: 200 }),
      (e) => {
        assert.ok(e instanceof APITimeoutError);
        assert.match(e.message, /no data for 200 ms/);
        assert.doesNotMatch(e.message, /sig=/);
        return true;
      },
    );
    assertOnly([]);
  });

  it("an error status from the storage URL is a typed error without the URL's token", async () => {
    routes.set("/expired.tar?sig=tok-123", (res) => {
      res.writeHead(403, { "content-type": "application/json" }).end('{"detail":"expired"}');
    });
    await assert.rejects(downloadArchive(`${base}/expired.tar?sig=tok-123`, join(work, "ckpt")), (e) => {
      assert.ok(e instanceof PermissionDeniedError);
      assert.equal(e.status, 403);
      assert.match(e.message, /status 403/);
      assert.doesNotMatch(e.message, /tok-123/);
      return true;
    });
    assertOnly([]);
  });

  after(() => rmSync(work, { recursive: true, force: true }));
});

describe("extractTar / safeEntrySegments", () => {
  it("normalizes harmless names and refuses the rest", () => {
    assert.deepEqual(safeEntrySegments("./a//b/./c"), ["a", "b", "c"]);
    assert.deepEqual(safeEntrySegments("./"), []);
    assert.throws(() => safeEntrySegments("C:/x"), /absolute/);
    assert.throws(() => safeEntrySegments("a\\..\\b"), /backslash/);
    assert.throws(() => safeEntrySegments("a\u0000b"), /control characters/);
  });

  it("extracts from any async byte source, in odd chunk sizes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tinker-extract-"));
    try {
      const tar = makeTar(GOOD);
      async function* chunks() {
        for (let i = 0; i < tar.length; i += 333) yield tar.subarray(i, i + 333);
      }
      const out = await extractTar(chunks(), dir);
      assert.equal(out.bytes, CONFIG.length + WEIGHTS.length);
      assert.deepEqual(new Uint8Array(readFileSync(join(dir, "adapter_model.safetensors"))), WEIGHTS);
      await assert.rejects(extractTar((async function* () {})(), mkdtempSync(join(dir, "e-"))), /empty/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
