// RestClient against a real tinker-local over HTTP. Runs and checkpoints are created through the
// server's store (the way its training routes create them); what the client sent is proven from the
// server's own request log.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createModel, type LocalServer, ownerIdForKey, readSafetensors, startServer } from "tinker-local";
import {
  APIUserAbortError,
  AuthenticationError,
  ConflictError,
  downloadCheckpoint,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RestClient,
  ServiceClient,
  ValidationError,
} from "tinker-ts";

const KEY = "tml-rest-client-key-1";
const OTHER_KEY = "tml-rest-client-key-2";
const ADMIN_KEY = "tml-rest-client-admin";
const OWNER = ownerIdForKey(KEY);

let weights: Uint8Array;
let adapterConfig: Uint8Array;

before(() => {
  const model = createModel("tinker-local/tiny", { rank: 4 });
  try {
    weights = model.saveWeights();
    adapterConfig = new TextEncoder().encode(JSON.stringify(model.adapterConfig()));
  } finally {
    model.dispose();
  }
});

async function openSession(server: LocalServer, apiKey = KEY): Promise<string> {
  const service = new ServiceClient({ apiKey, baseUrl: server.url, logLevel: "off" });
  try {
    return await service.openSession();
  } finally {
    await service.close();
  }
}

let runCounter = 0;
function seedRun(server: LocalServer, sessionId: string, owner = OWNER): string {
  const id = `${sessionId}:train:${runCounter++}`;
  server.store.runs.create({
    id,
    owner,
    sessionId,
    baseModel: "tinker-local/tiny",
    isLora: true,
    loraRank: 4,
    trainMlp: true,
    trainAttn: true,
    trainUnembed: false,
    userMetadata: { purpose: "rest-client-test" },
  });
  return id;
}

function seedCheckpoint(server: LocalServer, runId: string, checkpointId: string, owner = OWNER): string {
  return server.store.checkpoints.save(
    {
      runId,
      checkpointId,
      kind: checkpointId.startsWith("weights/") ? "training" : "sampler",
      owner,
      expiresAt: null,
    },
    { "adapter_model.safetensors": weights, "adapter_config.json": adapterConfig },
  ).tinkerPath;
}

/** Requests the server answered since the last clear, as `METHOD path?query status`. */
function log(
  server: LocalServer,
  filter: (path: string) => boolean = (p) => !p.startsWith("/api/v1/client/"),
) {
  return server
    .requests()
    .filter((r) => filter(r.path))
    .map((r) => `${r.method} ${r.path}${r.query ? `?${r.query}` : ""} ${r.status}`);
}

describe("RestClient against tinker-local", () => {
  let server: LocalServer;
  let client: RestClient;
  let sessionId: string;
  let runId: string;
  let path: string;

  before(async () => {
    server = await startServer({ port: 0, apiKeys: [KEY, OTHER_KEY], adminKeys: [ADMIN_KEY] });
    // Telemetry off: the 409s and 404s these tests provoke would otherwise be reported in the
    // background and show up in the request logs the tests compare (telemetry has its own tests).
    client = new RestClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off", telemetry: false });
    sessionId = await openSession(server);
    runId = seedRun(server, sessionId);
    path = seedCheckpoint(server, runId, "sampler_weights/final");
    seedCheckpoint(server, runId, "weights/0001");
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it("sends exactly the contract's defaults on the wire", async () => {
    server.clearRequests();
    await client.listUserCheckpoints();
    await client.listTrainingRuns();
    await client.listSessions();
    await client.listCheckpoints(runId);
    assert.deepEqual(log(server), [
      "GET /api/v1/checkpoints?limit=100&offset=0 200",
      "GET /api/v1/training_runs?limit=20&offset=0&access_scope=owned 200",
      "GET /api/v1/sessions?limit=20&offset=0&access_scope=owned 200",
      `GET /api/v1/training_runs/${runId}/checkpoints 200`,
    ]);
    server.clearRequests();
    await client.listUserCheckpoints({ limit: 50 });
    await client.listTrainingRuns({ limit: 50, accessScope: "accessible", projectId: "p1" });
    await client.listSessions({ limit: 50, offset: 5 });
    assert.deepEqual(log(server), [
      "GET /api/v1/checkpoints?limit=50&offset=0 200",
      "GET /api/v1/training_runs?limit=50&offset=0&access_scope=accessible&project_id=p1 200",
      "GET /api/v1/sessions?limit=50&offset=5&access_scope=owned 200",
    ]);
  });

  it("returns runs and checkpoints as typed objects", async () => {
    const page = await client.listTrainingRuns();
    const run = page.items.find((r) => r.trainingRunId === runId);
    assert.ok(run);
    assert.equal(run.baseModel, "tinker-local/tiny");
    assert.equal(run.modelOwner, OWNER);
    assert.equal(run.loraRank, 4);
    assert.ok(run.lastRequestTime instanceof Date);
    assert.equal(run.lastSamplerCheckpoint?.tinkerPath, path);
    assert.deepEqual(run.userMetadata, { purpose: "rest-client-test" });
    assert.equal((await client.getTrainingRun(runId)).trainingRunId, runId);
    assert.equal((await client.getTrainingRun(path)).trainingRunId, runId, "looked up from a tinker path");

    const checkpoint = await client.getCheckpoint(path);
    assert.equal(checkpoint.checkpointId, "sampler_weights/final");
    assert.equal(checkpoint.checkpointType, "sampler");
    assert.equal(checkpoint.public, false);
    assert.equal(checkpoint.expiresAt, null);
    assert.ok((checkpoint.sizeBytes ?? 0) >= weights.length);
    const ids = (await client.listCheckpoints(runId).toArray()).map((c) => c.checkpointId).sort();
    assert.deepEqual(ids, ["sampler_weights/final", "weights/0001"]);
  });

  it("iterates more than 250 checkpoints, each exactly once, in pages of 100", async () => {
    const manyRun = seedRun(server, sessionId);
    const made = new Set<string>();
    for (let i = 0; i < 260; i++)
      made.add(seedCheckpoint(server, manyRun, `weights/step-${String(i).padStart(4, "0")}`));
    server.clearRequests();
    const seen: string[] = [];
    for await (const c of client.listUserCheckpoints()) seen.push(c.tinkerPath);
    const mine = seen.filter((p) => p.startsWith(`tinker://${manyRun}/`));
    assert.equal(mine.length, 260);
    assert.deepEqual(new Set(mine), made);
    assert.equal(new Set(seen).size, seen.length, "no checkpoint twice");
    const total = seen.length;
    assert.deepEqual(
      log(server),
      Array.from(
        { length: Math.ceil(total / 100) },
        (_, i) => `GET /api/v1/checkpoints?limit=100&offset=${i * 100} 200`,
      ),
    );
    await assert.rejects(client.listUserCheckpoints().toArray({ limit: 100 }), /more than 100 items/);
    for (const p of made) await client.deleteCheckpoint(p);
  });

  it("publishes and unpublishes; a repeat is a ConflictError at once, not retried", async () => {
    await client.publishCheckpoint(path);
    assert.equal((await client.getCheckpoint(path)).public, true);
    server.clearRequests();
    await assert.rejects(client.publishCheckpoint(path), (e) => {
      assert.ok(e instanceof ConflictError);
      assert.equal(e.status, 409);
      assert.match(e.message, /already public/);
      return true;
    });
    assert.deepEqual(log(server), [
      `POST /api/v1/training_runs/${runId}/checkpoints/sampler_weights/final/publish 409`,
    ]);
    await client.unpublishCheckpoint(path);
    assert.equal((await client.getCheckpoint(path)).public, false);
    await assert.rejects(client.unpublishCheckpoint(path), /already private/);
  });

  it("sets and removes a TTL; refuses a bad one before sending", async () => {
    const before = Date.now();
    await client.setCheckpointTtl(path, 3600);
    const expires = (await client.getCheckpoint(path)).expiresAt;
    assert.ok(expires instanceof Date);
    assert.ok(Math.abs(expires.getTime() - (before + 3_600_000)) < 60_000);
    await client.setCheckpointTtl(path, null);
    assert.equal((await client.getCheckpoint(path)).expiresAt, null);
    server.clearRequests();
    for (const bad of [0, -5, 1.5, Number.NaN]) {
      await assert.rejects(client.setCheckpointTtl(path, bad), (e) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(e.field, "ttlSeconds");
        return true;
      });
    }
    assert.deepEqual(log(server), []);
  });

  it("deletes a checkpoint with its id unescaped in the path", async () => {
    const doomed = seedCheckpoint(server, runId, "weights/doomed");
    server.clearRequests();
    await client.deleteCheckpoint(doomed);
    assert.deepEqual(log(server), [`DELETE /api/v1/training_runs/${runId}/checkpoints/weights/doomed 200`]);
    await assert.rejects(client.getCheckpoint(doomed), NotFoundError);
    await assert.rejects(client.deleteCheckpoint(doomed), NotFoundError);
  });

  it("refuses bad ids and paths before sending anything", async () => {
    server.clearRequests();
    await assert.rejects(client.getTrainingRun("a/b"), /runId must not contain '\/'/);
    await assert.rejects(client.deleteCheckpoint("tinker://r/weights/a/b"), /names cannot contain '\//);
    await assert.rejects(client.publishCheckpoint("r/weights/x"), /must start with 'tinker:\/\/'/);
    await assert.rejects(client.getSession(".."), ValidationError);
    assert.throws(() => client.listTrainingRuns({ limit: 0 }), /limit must be a whole number/);
    assert.throws(() => client.listSessions({ accessScope: "everyone" as "owned" }), /accessScope must be/);
    assert.deepEqual(log(server), []);
  });

  it("downloads a checkpoint whose safetensors equal what the server stored, sending no key to the signed URL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tinker-rest-dl-"));
    try {
      const sent: { url: string; headers: Headers }[] = [];
      const spy: typeof fetch = (input, init) => {
        sent.push({ url: String(input), headers: new Headers(init?.headers) });
        return fetch(input, init);
      };
      const progress: number[] = [];
      const target = join(dir, "final");
      const result = await client.downloadCheckpoint(path, target, {
        fetch: spy,
        onProgress: (p) => progress.push(p.receivedBytes),
      });
      assert.deepEqual(result.files.sort(), ["adapter_config.json", "adapter_model.safetensors"]);
      const got = new Uint8Array(readFileSync(join(target, "adapter_model.safetensors")));
      assert.deepEqual(got, weights);
      const parsedGot = readSafetensors(got);
      const parsedStored = readSafetensors(weights);
      assert.deepEqual([...parsedGot.tensors.keys()].sort(), [...parsedStored.tensors.keys()].sort());
      assert.ok(parsedGot.tensors.size > 0);
      for (const [name, tensor] of parsedStored.tensors) {
        assert.deepEqual(parsedGot.tensors.get(name)?.data, tensor.data, name);
      }
      assert.deepEqual(
        JSON.parse(readFileSync(join(target, "adapter_config.json"), "utf8")),
        JSON.parse(new TextDecoder().decode(adapterConfig)),
      );
      assert.equal(sent.length, 1);
      assert.match(sent[0]?.url ?? "", /\/archives\//);
      assert.equal(sent[0]?.headers.get("x-api-key"), null);
      assert.equal(progress.at(-1), result.archiveBytes);
      await assert.rejects(client.downloadCheckpoint(path, target), /not empty; pass force/);
      await client.downloadCheckpoint(path, target, { force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lists and reads sessions, assigns a project, exports a trace", async () => {
    const ids = await client.listSessions().toArray();
    assert.ok(ids.includes(sessionId));
    const info = await client.getSession(sessionId);
    assert.equal(info.sessionId, sessionId);
    assert.ok(info.trainingRunIds.includes(runId));
    await client.assignSessionProject(sessionId, "project-x");
    assert.deepEqual(
      (await client.listTrainingRuns({ projectId: "project-x" }).toArray())
        .map((r) => r.trainingRunId)
        .includes(runId),
      true,
    );
    let pending = 0;
    const url = await client.exportSessionTrace(sessionId, {
      pollIntervalMs: 10,
      onPending: () => pending++,
    });
    assert.ok(pending >= 1, "the server answers pending first");
    const trace = (await (await fetch(url)).json()) as { traceEvents: unknown[] };
    assert.ok(Array.isArray(trace.traceEvents) && trace.traceEvents.length > 0);
    await assert.rejects(client.getSession("no-such-session"), NotFoundError);
  });

  it("reads samplers and weights info", async () => {
    const samplerId = `${sessionId}:sample:0`;
    server.store.samplers.create({
      id: samplerId,
      owner: OWNER,
      sessionId,
      baseModel: "tinker-local/tiny",
      modelPath: path,
    });
    assert.deepEqual(await client.getSampler(samplerId), {
      samplerId,
      baseModel: "tinker-local/tiny",
      modelPath: path,
    });
    const info = await client.getWeightsInfo(path);
    assert.deepEqual(info, {
      baseModel: "tinker-local/tiny",
      isLora: true,
      loraRank: 4,
      trainUnembed: false,
      trainMlp: true,
      trainAttn: true,
    });
  });

  it("reads the audit log with an admin key; others get PermissionDeniedError", async () => {
    const admin = new RestClient({ apiKey: ADMIN_KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const entries = await admin.getAuditLog();
      assert.ok(entries.some((e) => e.event === "checkpoint_publish" && e.tinkerPath === path));
      assert.ok(entries.every((e) => e.timestamp instanceof Date));
      await assert.rejects(admin.getAuditLog({ day: "2026-13-01" }), /day must be a date as YYYY-MM-DD/);
    } finally {
      await admin.close();
    }
    await assert.rejects(client.getAuditLog(), PermissionDeniedError);
  });

  it("checks billing ranges before sending, then reads usage", async () => {
    const hour = 3_600_000;
    const now = Date.now();
    const thisHour = Math.floor(now / hour) * hour;
    server.clearRequests();
    const bad: [Date | string, Date | string, RegExp][] = [
      [new Date(thisHour + 60_000), new Date(thisHour + hour), /on a UTC hour/],
      [new Date(thisHour), new Date(thisHour), /later than/],
      [new Date(thisHour - 15 * 24 * hour), new Date(thisHour), /at most 14 days apart/],
      [new Date(thisHour + 2 * hour), new Date(thisHour + 3 * hour), /must not be in the future/],
      ["yesterday", new Date(thisHour), /RFC 3339/],
    ];
    for (const [startingOn, endingBefore, why] of bad) {
      await assert.rejects(client.getBillingUsage({ startingOn, endingBefore }), (e) => {
        assert.ok(e instanceof ValidationError);
        assert.match(e.message, why);
        return true;
      });
    }
    assert.deepEqual(log(server), []);
    const usage = await client.getBillingUsage({
      startingOn: new Date(thisHour - hour),
      endingBefore: new Date(thisHour + hour).toISOString(),
    });
    assert.deepEqual(log(server), [
      `GET /api/v1/billing/usage/events?starting_on=${encodeURIComponent(new Date(thisHour - hour).toISOString().replace(".000Z", "Z"))}&ending_before=${encodeURIComponent(new Date(thisHour + hour).toISOString().replace(".000Z", "Z"))} 200`,
    ]);
    const checkpoints = usage.data.filter((e) => e.eventInfo.type === "checkpoint");
    assert.ok(checkpoints.length > 0);
    assert.ok(checkpoints.every((e) => e.sessionId === sessionId && e.bucketStart instanceof Date));
  });

  it("whoami fails clearly in plain mode", async () => {
    await assert.rejects(client.whoami(), (e) => {
      assert.ok(e instanceof ValidationError);
      assert.match(e.message, /whoami needs a JWT/);
      return true;
    });
  });

  it("per-call options reach the request (signal)", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(client.listTrainingRuns({}, { signal: controller.signal }), APIUserAbortError);
  });

  it("a wrong key is an AuthenticationError that does not contain the key", async () => {
    const wrong = "tml-definitely-not-configured";
    const bad = new RestClient({ apiKey: wrong, baseUrl: server.url, logLevel: "off", maxRetries: 0 });
    try {
      await assert.rejects(bad.listTrainingRuns(), (e) => {
        assert.ok(e instanceof AuthenticationError);
        assert.ok(!e.message.includes(wrong));
        return true;
      });
    } finally {
      await bad.close();
    }
  });

  it("ServiceClient.createRestClient shares the session-less connection and opens no session", async () => {
    const service = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    try {
      server.clearRequests();
      const viaService = service.createRestClient();
      await viaService.listTrainingRuns();
      await viaService.listSessions();
      const paths = server.requests().map((r) => r.path);
      assert.equal(paths.filter((p) => p === "/api/v1/client/config").length, 1);
      assert.equal(paths.includes("/api/v1/create_session"), false);
      assert.equal(service.sessionId, undefined);
    } finally {
      await service.close();
    }
  });
});

describe("RestClient archive URL", () => {
  it("waits through 503 'still building' and then gets the URL (302 form)", async () => {
    const server = await startServer({ port: 0, apiKeys: [KEY], archiveBuildDelayMs: 400 });
    const client = new RestClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const runId = seedRun(server, await openSession(server));
      const path = seedCheckpoint(server, runId, "weights/slow");
      const waits: number[] = [];
      server.clearRequests();
      const started = Date.now();
      const archive = await client.getCheckpointArchiveUrl(path, {
        maxRetries: 0,
        archiveWaitMs: 150,
        onWait: (info) => {
          assert.equal(info.maxPasses, 6);
          assert.equal(info.waitMs, 150);
          waits.push(info.pass);
        },
      });
      assert.match(archive.url, /\/archives\/.*token=/);
      assert.ok(archive.expires.getTime() > started + 10 * 60_000, "Expires header read (15 min)");
      assert.ok(waits.length >= 2, `waited ${waits.length} times`);
      assert.deepEqual(
        waits,
        waits.map((_, i) => i + 1),
      );
      const statuses = server
        .requests()
        .filter((r) => r.path.endsWith("/archive"))
        .map((r) => r.status);
      assert.deepEqual(statuses, [...waits.map(() => 503), 302]);
      assert.ok(
        server
          .requests()
          .filter((r) => r.path.endsWith("/archive"))
          .every((r) => r.accept === "application/json"),
      );
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("gives up after archiveMaxPasses with a message that says so", async () => {
    const server = await startServer({ port: 0, apiKeys: [KEY], archiveBuildDelayMs: 600_000 });
    const client = new RestClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const path = seedCheckpoint(server, seedRun(server, await openSession(server)), "weights/never");
      await assert.rejects(
        client.getCheckpointArchiveUrl(path, { maxRetries: 0, archiveWaitMs: 5, archiveMaxPasses: 3 }),
        (e) => {
          assert.ok(e instanceof InternalServerError);
          assert.equal(e.status, 503);
          assert.match(e.message, /still being built after 3 attempts/);
          return true;
        },
      );
      assert.equal(server.requests().filter((r) => r.path.endsWith("/archive")).length, 3);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("accepts the 200 JSON {url, expires} form", async () => {
    const server = await startServer({ port: 0, apiKeys: [KEY], archiveResponse: "json" });
    const client = new RestClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const path = seedCheckpoint(server, seedRun(server, await openSession(server)), "weights/json");
      const archive = await client.getCheckpointArchiveUrl(path);
      assert.match(archive.url, /^http:\/\/127\.0\.0\.1:\d+\/archives\//);
      assert.ok(archive.expires instanceof Date && archive.expires.getTime() > Date.now());
      assert.deepEqual(
        server
          .requests()
          .filter((r) => r.path.endsWith("/archive"))
          .map((r) => r.status),
        [200],
      );
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe("downloadCheckpoint (standalone function)", () => {
  it("builds a temporary client from options and downloads", async () => {
    const server = await startServer({ port: 0, apiKeys: [KEY] });
    const dir = mkdtempSync(join(tmpdir(), "tinker-standalone-dl-"));
    try {
      const path = seedCheckpoint(server, seedRun(server, await openSession(server)), "weights/standalone");
      const result = await downloadCheckpoint(path, join(dir, "out"), {
        clientOptions: { apiKey: KEY, baseUrl: server.url, logLevel: "off" },
      });
      assert.deepEqual(new Uint8Array(readFileSync(join(result.dir, "adapter_model.safetensors"))), weights);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await server.close();
    }
  });
});

function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

describe("RestClient whoami with a passport JWT as the key (plain mode)", () => {
  it("reads the identity from the key's claims; a non-passport JWT is refused", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const passport = unsignedJwt({
      iss: "passport-test",
      sub: "urn:tinker:user:7",
      email: "u@example.com",
      exp,
    });
    const other = unsignedJwt({ iss: "someone-else", sub: "urn:x", exp });
    const server = await startServer({ port: 0, apiKeys: [passport, other] });
    const good = new RestClient({ apiKey: passport, baseUrl: server.url, logLevel: "off" });
    const bad = new RestClient({ apiKey: other, baseUrl: server.url, logLevel: "off" });
    try {
      assert.deepEqual(await good.whoami(), { userUrn: "urn:tinker:user:7", email: "u@example.com" });
      await assert.rejects(bad.whoami(), /whoami needs a JWT/);
    } finally {
      await good.close();
      await bad.close();
      await server.close();
    }
  });
});

describe("RestClient whoami in JWT mode", () => {
  it("returns the identity from the JWT without a request of its own", async () => {
    const server = await startServer({ port: 0, apiKeys: [KEY], jwt: true });
    const client = new RestClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const me = await client.whoami();
      assert.equal(me.userUrn, `tinker:${OWNER}`);
      const count = server.requests().length;
      await client.whoami();
      assert.equal(server.requests().length, count);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
