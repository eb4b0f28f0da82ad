// The heartbeat against a spawned tinker-local process, proven by the server's own records: its
// --log-requests stdout and the heartbeat_count of the session row in its SQLite database.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readSessionRecord } from "tinker-local";
import { ServiceClient } from "tinker-ts";
import { spawnTinkerLocal } from "../../tinker-local/test/helpers/spawn-local.js";
import { recordingLogger } from "./helpers/fake-clock.js";

const KEY = "tml-local-dev";

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const beatLines = (lines: string[]) => lines.filter((l) => l === "POST /api/v1/session_heartbeat 200").length;

describe("heartbeat against a spawned tinker-local", () => {
  it("beats on /api/v1/session_heartbeat (server log and SQLite count grow; no /api/v1/heartbeat)", async () => {
    const server = await spawnTinkerLocal(["--log-requests"]);
    const client = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logLevel: "off",
      heartbeat: { intervalMs: 200 },
    });
    try {
      const id = await client.openSession();
      await until("3 heartbeats logged by the server", () => beatLines(server.lines) >= 3);
      const first = readSessionRecord(server.dataDir, id);
      assert.ok(first, "the session row exists");
      assert.ok(first.heartbeatCount >= 3, `heartbeat_count ${first.heartbeatCount}`);
      await until("2 more heartbeats", () => beatLines(server.lines) >= first.heartbeatCount + 2);
      const second = readSessionRecord(server.dataDir, id);
      assert.ok(second && second.heartbeatCount > first.heartbeatCount, "the count keeps growing");
      assert.ok((second?.lastHeartbeatAt ?? 0) > (first.lastHeartbeatAt ?? 0));
      assert.equal(
        server.lines.filter((l) => l.includes("/api/v1/heartbeat ")).length,
        0,
        "nothing is sent to the non-existent /api/v1/heartbeat",
      );
      assert.ok(
        !server.lines.some((l) => / 4\d\d$| 5\d\d$/.test(l)),
        `no failed request: ${server.lines.join("\n")}`,
      );
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it("warns for real when the server stops answering, keeps the session, and logs recovery", async () => {
    const server = await spawnTinkerLocal(["--log-requests"]);
    const rec = recordingLogger();
    const client = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logger: rec.logger,
      logLevel: "info",
      heartbeat: { intervalMs: 100, timeoutMs: 100, warnAfterMs: 500, warnRepeatMs: 400 },
    });
    const warnings: { sessionId: string; sinceLastSuccessMs: number; consecutiveFailures: number }[] = [];
    const recoveries: { sessionId: string; outageMs: number }[] = [];
    client.on("heartbeatWarning", (e) => warnings.push(e));
    client.on("heartbeatRecovered", (e) => recoveries.push(e));
    try {
      const id = await client.openSession();
      await until("2 successful beats", () => (client.heartbeatStats()?.successes ?? 0) >= 2);

      server.proc.kill("SIGSTOP");
      await until("a heartbeat warning", () => warnings.length >= 1);
      const w = warnings[0]!;
      assert.equal(w.sessionId, id);
      assert.ok(w.sinceLastSuccessMs > 500);
      assert.ok(w.consecutiveFailures >= 1);
      const warnLine = rec.at("warn").find((l) => l.message.includes(id));
      assert.ok(warnLine, "the warning is logged with the session id");
      assert.match(warnLine.message, /timed out/);
      assert.match(warnLine.message, /may terminate the session/);
      assert.equal(client.sessionId, id, "the session is kept");

      const successesBefore = client.heartbeatStats()!.successes;
      server.proc.kill("SIGCONT");
      await until("recovery", () => recoveries.length >= 1, 20_000);
      assert.equal(recoveries[0]?.sessionId, id);
      assert.ok((recoveries[0]?.outageMs ?? 0) > 500);
      assert.ok(rec.at("info").some((l) => l.message.includes(id) && /recovered/.test(l.message)));
      await until("beats resume", () => client.heartbeatStats()!.successes >= successesBefore + 3);
      assert.equal(client.sessionId, id);
      const row = readSessionRecord(server.dataDir, id);
      assert.equal(row?.expiredAt, null, "the server did not expire the session");
      assert.ok((row?.heartbeatCount ?? 0) >= successesBefore + 3);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
