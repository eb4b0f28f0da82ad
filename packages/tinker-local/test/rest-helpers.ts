// Shared set-up for the rest-*.test.ts files: a server with two users and an admin, and runs and
// checkpoints created straight through the store (the way the training routes create them).
import { type LocalServer, ownerIdForKey, type ServerOptions, startServer } from "tinker-local";
import { type CallResult, call, createSession, FakeClock } from "./helpers/server-http.js";

export const KEY_A = "tml-rest-user-a";
export const KEY_B = "tml-rest-user-b";
export const KEY_ADMIN = "tml-rest-admin";
export const OWNER_A = ownerIdForKey(KEY_A);
export const OWNER_B = ownerIdForKey(KEY_B);

export interface RestFixture {
  server: LocalServer;
  clock: FakeClock;
  close(): Promise<void>;
}

export async function startRestServer(options: ServerOptions = {}): Promise<RestFixture> {
  const clock = new FakeClock(Date.UTC(2026, 0, 15, 12, 0, 0));
  const server = await startServer({
    port: 0,
    apiKeys: [KEY_A, KEY_B],
    adminKeys: [KEY_ADMIN],
    clock,
    checkpointSweepIntervalMs: 0,
    ...options,
  });
  return { server, clock, close: () => server.close() };
}

export function api(
  server: LocalServer,
  method: string,
  path: string,
  key: string | null = KEY_A,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<CallResult> {
  return call(server.url, method, path, { key: key ?? undefined, body, headers });
}

export function session(server: LocalServer, key: string = KEY_A): Promise<string> {
  return createSession(server.url, key);
}

let runCounter = 0;

/** A run in `sessionId` owned by `owner`, created through the store. */
export function seedRun(
  server: LocalServer,
  owner: string,
  sessionId: string,
  extra: { loraRank?: number; userMetadata?: Record<string, string> | null } = {},
): string {
  const id = `${sessionId}:train:${runCounter++}`;
  server.store.runs.create({
    id,
    owner,
    sessionId,
    baseModel: "tinker-local/tiny",
    isLora: true,
    loraRank: extra.loraRank ?? 8,
    trainMlp: true,
    trainAttn: true,
    trainUnembed: false,
    userMetadata: extra.userMetadata === undefined ? { purpose: "test" } : extra.userMetadata,
  });
  return id;
}

/** Sampler `index` of `sessionId` owned by `owner`, created through the store; returns its id. */
export function seedSampler(
  server: LocalServer,
  owner: string,
  sessionId: string,
  modelPath: string | null = null,
  index = 0,
): string {
  const id = `${sessionId}:sample:${index}`;
  server.store.samplers.create({ id, owner, sessionId, baseModel: "tinker-local/tiny", modelPath });
  return id;
}

export const SMALL_FILES = {
  "adapter_config.json": new TextEncoder().encode('{"r": 8}'),
  "adapter_model.safetensors": new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
};

/** A checkpoint saved through the store with its files written. */
export function seedCheckpoint(
  server: LocalServer,
  runId: string,
  checkpointId: string,
  options: {
    owner?: string;
    expiresAt?: number | null;
    files?: Record<string, Uint8Array>;
    ephemeral?: boolean;
  } = {},
) {
  const owner = options.owner ?? server.store.runs.get(runId)?.owner ?? OWNER_A;
  return server.store.checkpoints.save(
    {
      runId,
      checkpointId,
      kind: checkpointId.startsWith("weights/") ? "training" : "sampler",
      owner,
      expiresAt: options.expiresAt ?? null,
      ephemeral: options.ephemeral ?? false,
    },
    options.files ?? SMALL_FILES,
  );
}
