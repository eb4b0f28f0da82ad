// Defects found by reading tinker-local as an attacker would (issue 8, item 5), each proven over
// real HTTP: a checkpoint is addressed only by its exact name, names that need percent-encoding are
// refused at save time (and by the SDK before sending), and internal errors never carry server paths.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { CHECKPOINT_NAME_CHARACTERS, ServiceClient, ValidationError } from "tinker-ts";
import { call, createSession, DEFAULT_KEY, errorDetail, get, post } from "./helpers/server-http.js";
import { createModel, poll, saveWeights, submit } from "./helpers/training-http.js";

describe("checkpoint names and internal errors", () => {
  let server: LocalServer;
  let modelId: string;
  let seq = 1;

  before(async () => {
    server = await startServer({ port: 0 });
    const sessionId = await createSession(server.url);
    modelId = await createModel(server.url, sessionId, 0);
  });
  after(() => server.close());

  const names = async () => {
    const listed = await get(server.url, `/api/v1/training_runs/${modelId}/checkpoints`);
    return (listed.json as { checkpoints: { checkpoint_id: string }[] }).checkpoints.map(
      (c) => c.checkpoint_id,
    );
  };

  test("a %xx-encoded name in the URL is not decoded into another checkpoint's name", async () => {
    await saveWeights(server.url, modelId, seq++, "ab");
    // `a%62` decodes to `ab`; it must address the (absent) checkpoint named "a%62", not "ab".
    const deleted = await call(
      server.url,
      "DELETE",
      `/api/v1/training_runs/${modelId}/checkpoints/weights/a%62`,
      {
        key: DEFAULT_KEY,
      },
    );
    assert.equal(deleted.status, 404, deleted.text);
    assert.ok((await names()).includes("weights/ab"), "ab is still there");
    const exact = await call(
      server.url,
      "DELETE",
      `/api/v1/training_runs/${modelId}/checkpoints/weights/ab`,
      {
        key: DEFAULT_KEY,
      },
    );
    assert.equal(exact.status, 200, exact.text);
    assert.equal((await names()).includes("weights/ab"), false);
  });

  for (const [label, name] of [
    ["a space", "a b"],
    ["'%'", "100%"],
    ["'?'", "why?"],
    ["'#'", "no#1"],
    ["'\\'", "back\\slash"],
  ] as const) {
    test(`a save named with ${label} is refused with a 400 that lists the allowed characters`, async () => {
      const answer = await post(server.url, "/api/v1/save_weights", {
        model_id: modelId,
        path: name,
        seq_id: seq,
        overwrite: false,
        type: "save_weights",
      });
      // Refused at submit: a 400 before any future exists, so the seq id stays free.
      assert.equal(answer.status, 400, answer.text);
      const detail = errorDetail(answer);
      assert.ok(detail.includes(label), detail);
      assert.ok(detail.includes(CHECKPOINT_NAME_CHARACTERS), detail);
      assert.equal((await names()).includes(`weights/${name}`), false);
    });
  }

  test("the SDK refuses the same names before sending anything", async () => {
    const service = new ServiceClient({ apiKey: DEFAULT_KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const training = await service.createLoraTrainingClient("tinker-local/tiny", { rank: 4, seed: 1 });
      server.clearRequests();
      for (const name of ["a b", "100%", "why?", "no#1", "back\\slash", ""]) {
        assert.throws(() => training.saveState(name), ValidationError, name);
        assert.throws(() => training.saveWeightsForSampler(name), ValidationError, name);
      }
      assert.deepEqual(
        server.requests().filter((r) => r.path.startsWith("/api/v1/save_weights")),
        [],
        "nothing was sent",
      );
      // Names within the rule pass on both sides.
      const { path } = await training.saveState("ok.name_1-(v2)+x=y,z@w:~");
      assert.match(path, /weights\/ok\.name_1-\(v2\)\+x=y,z@w:~$/);
    } finally {
      await service.close();
    }
  });

  test("an internal error does not send server file paths to the client", async () => {
    // Make the checkpoint store unwritable: its root becomes a plain file, so a save fails inside
    // the server with an error whose message names paths under the data dir.
    const root = join(server.dataDir, "checkpoints");
    rmSync(root, { recursive: true, force: true });
    writeFileSync(root, "not a directory");
    try {
      const requestId = await submit(server.url, "/api/v1/save_weights", {
        model_id: modelId,
        path: "doomed",
        seq_id: seq++,
        overwrite: false,
        type: "save_weights",
      });
      const result = await poll(server.url, requestId);
      const body = JSON.stringify(result.json);
      assert.match(body, /"category":"server"/, body);
      assert.match(body, /server log/, body);
      assert.equal(body.includes(server.dataDir), false, `the answer names a server path: ${body}`);
      assert.equal(body.includes("checkpoints"), false, body);
    } finally {
      rmSync(root, { force: true });
    }
  });
});

describe("HTTP-parser errors", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0 });
  });
  after(() => server.close());

  /** Writes raw bytes and resolves with everything the server sent before it closed the socket. */
  const raw = (bytes: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1");
      let out = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        out += chunk;
      });
      socket.on("close", () => resolve(out));
      socket.on("error", reject);
      socket.write(bytes);
    });

  const parse = (answer: string) => {
    const [head = "", body = ""] = answer.split("\r\n\r\n");
    const [statusLine = "", ...lines] = head.split("\r\n");
    const headers = new Map(
      lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    return { status: Number(statusLine.split(" ")[1]), headers, body };
  };

  for (const [title, bytes, status] of [
    ["a malformed request line", "GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    [
      "headers past the size limit",
      `GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      431,
    ],
  ] as const) {
    test(`${title}: ${status} with {"detail"} and a Content-Length, then the connection closes`, async () => {
      // The promise resolves only once the server has closed the socket.
      const answer = parse(await raw(bytes));
      assert.equal(answer.status, status);
      assert.equal(answer.headers.get("connection"), "close");
      assert.equal(Number(answer.headers.get("content-length")), Buffer.byteLength(answer.body));
      const json = JSON.parse(answer.body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(json), ["detail"]);
      assert.equal(typeof json.detail, "string");
    });
  }
});
