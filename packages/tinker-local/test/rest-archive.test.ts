import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { extract } from "tar-stream";
import { createModel } from "tinker-local";
import { errorDetail } from "./helpers/server-http.js";
import {
  api,
  KEY_A,
  KEY_B,
  OWNER_A,
  seedCheckpoint,
  seedRun,
  session,
  startRestServer,
} from "./rest-helpers.js";

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

async function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        files.set(header.name, Buffer.concat(chunks));
        next();
      });
      stream.resume();
    });
    reader.on("finish", resolve);
    reader.on("error", reject);
  });
  reader.end(bytes);
  await done;
  return files;
}

async function setUp(options: Parameters<typeof startRestServer>[0] = {}) {
  const fx = await startRestServer(options);
  const runId = seedRun(fx.server, OWNER_A, await session(fx.server, KEY_A));
  seedCheckpoint(fx.server, runId, "sampler_weights/final", {
    files: {
      "adapter_model.safetensors": weights,
      "adapter_config.json": adapterConfig,
      "optimizer.safetensors": new Uint8Array([9, 9, 9]),
    },
  });
  return {
    fx,
    archivePath: `/api/v1/training_runs/${runId}/checkpoints/sampler_weights/final/archive`,
    runId,
  };
}

let redirect: Awaited<ReturnType<typeof setUp>>;
before(async () => {
  redirect = await setUp();
});
after(() => redirect.fx.close());

test("archive answers 302 with Location and Expires; the signed URL serves the tar", async () => {
  const { fx, archivePath } = redirect;
  const answer = await api(fx.server, "GET", archivePath, KEY_A, undefined, { accept: "application/json" });
  // fetch follows redirects by default; read the 302 itself.
  const raw = await fetch(`${fx.server.url}${archivePath}`, {
    headers: { "x-api-key": KEY_A, accept: "application/json" },
    redirect: "manual",
  });
  assert.equal(raw.status, 302);
  const location = raw.headers.get("location");
  assert.ok(location?.startsWith(`${fx.server.url}/archives/`), location ?? "no Location");
  const expires = raw.headers.get("expires");
  assert.equal(Date.parse(expires ?? ""), Math.floor((fx.clock.now() + 15 * 60_000) / 1000) * 1000);
  // The followed redirect (no API key on the second hop) got the archive.
  assert.equal(answer.status, 200);

  const download = await fetch(location!);
  assert.equal(download.status, 200);
  assert.equal(download.headers.get("content-type"), "application/x-tar");
  const bytes = Buffer.from(await download.arrayBuffer());
  assert.equal(Number(download.headers.get("content-length")), bytes.length);
  const files = await untar(bytes);
  assert.deepEqual([...files.keys()].sort(), ["adapter_config.json", "adapter_model.safetensors"]);
  assert.ok(files.get("adapter_model.safetensors")?.equals(Buffer.from(weights)));
  assert.deepEqual(JSON.parse(files.get("adapter_config.json")!.toString("utf8")).r, 4);

  const audit = await api(fx.server, "GET", "/api/v1/audit", "tml-rest-admin");
  const events = (audit.json as { entries: { event: string }[] }).entries.map((e) => e.event);
  assert.ok(events.includes("checkpoint_download"), events.join(","));
});

test("an expired or tampered signature is 403 with a JSON detail", async () => {
  const { fx, archivePath } = redirect;
  const raw = await fetch(`${fx.server.url}${archivePath}`, {
    headers: { "x-api-key": KEY_A },
    redirect: "manual",
  });
  const location = new URL(raw.headers.get("location")!);
  const token = location.searchParams.get("token")!;
  const [payload, signature] = token.split(".") as [string, string];
  const flipped = `${payload}.${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
  const tampered = await api(fx.server, "GET", `${location.pathname}?token=${flipped}`, null);
  assert.equal(tampered.status, 403);
  assert.match(errorDetail(tampered), /signature/i);
  const otherPayload = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), e: 9e15 }),
  ).toString("base64url");
  const extended = await api(
    fx.server,
    "GET",
    `${location.pathname}?token=${otherPayload}.${signature}`,
    null,
  );
  assert.equal(extended.status, 403);
  assert.equal((await api(fx.server, "GET", `${location.pathname}?token=garbage`, null)).status, 403);
  assert.equal((await api(fx.server, "GET", location.pathname, null)).status, 403);

  fx.clock.advance(15 * 60_000);
  const expired = await api(fx.server, "GET", `${location.pathname}${location.search}`, null);
  assert.equal(expired.status, 403);
  assert.match(errorDetail(expired), /expired/);
});

test("JSON mode: Accept application/json gets 200 {url, expires}; other Accepts still get 302", async () => {
  const json = await setUp({ archiveResponse: "json" });
  try {
    const answer = await api(json.fx.server, "GET", json.archivePath, KEY_A, undefined, {
      accept: "application/json",
    });
    assert.equal(answer.status, 200);
    const body = answer.json as { url: string; expires: string };
    assert.deepEqual(Object.keys(body).sort(), ["expires", "url"]);
    assert.equal(body.expires, new Date(json.fx.clock.now() + 15 * 60_000).toISOString());
    const download = await fetch(body.url);
    assert.equal(download.status, 200);
    const files = await untar(Buffer.from(await download.arrayBuffer()));
    assert.ok(files.get("adapter_model.safetensors")?.equals(Buffer.from(weights)));
    const noJson = await fetch(`${json.fx.server.url}${json.archivePath}`, {
      headers: { "x-api-key": KEY_A, accept: "*/*" },
      redirect: "manual",
    });
    assert.equal(noJson.status, 302);
  } finally {
    await json.fx.close();
  }
});

test("a building archive answers 503 until ready, then 302", async () => {
  const slow = await setUp({ archiveBuildDelayMs: 45_000, archiveUrlTtlSeconds: 60 });
  try {
    const get = () =>
      fetch(`${slow.fx.server.url}${slow.archivePath}`, {
        headers: { "x-api-key": KEY_A },
        redirect: "manual",
      });
    const first = await get();
    assert.equal(first.status, 503);
    assert.equal(first.headers.get("retry-after"), "45");
    assert.match(((await first.json()) as { detail: string }).detail, /still being built/);
    slow.fx.clock.advance(30_000);
    assert.equal((await get()).status, 503);
    slow.fx.clock.advance(15_000);
    const ready = await get();
    assert.equal(ready.status, 302);
    assert.equal(Date.parse(ready.headers.get("expires")!), slow.fx.clock.now() + 60_000);
  } finally {
    await slow.fx.close();
  }
});

test("archives of another user's private checkpoint are 404; of a public one, allowed", async () => {
  const { fx, archivePath, runId } = redirect;
  const foreign = await fetch(`${fx.server.url}${archivePath}`, {
    headers: { "x-api-key": KEY_B },
    redirect: "manual",
  });
  assert.equal(foreign.status, 404);
  const publish = await api(
    fx.server,
    "POST",
    `/api/v1/training_runs/${runId}/checkpoints/sampler_weights/final/publish`,
  );
  assert.equal(publish.status, 200);
  const allowed = await fetch(`${fx.server.url}${archivePath}`, {
    headers: { "x-api-key": KEY_B },
    redirect: "manual",
  });
  assert.equal(allowed.status, 302);
  assert.equal(
    (
      await api(
        fx.server,
        "DELETE",
        `/api/v1/training_runs/${runId}/checkpoints/sampler_weights/final/publish`,
      )
    ).status,
    200,
  );
});

test("a signed URL for a deleted checkpoint is 404", async () => {
  const { fx, runId } = redirect;
  seedCheckpoint(fx.server, runId, "weights/doomed");
  const raw = await fetch(
    `${fx.server.url}/api/v1/training_runs/${runId}/checkpoints/weights/doomed/archive`,
    {
      headers: { "x-api-key": KEY_A },
      redirect: "manual",
    },
  );
  const location = raw.headers.get("location")!;
  assert.equal(
    (await api(fx.server, "DELETE", `/api/v1/training_runs/${runId}/checkpoints/weights/doomed`)).status,
    200,
  );
  const gone = await fetch(location);
  assert.equal(gone.status, 404);
});
