// A session: start-up steps 1-3 (connection.ts), then create_session, then the background work of
// step 5: the heartbeat loop, the dynamic-config refresh and telemetry.
// Messages the server sends with the new session are logged at their level; an error_message is
// reported but does not abort (contract 2.4).

import { createSession, fetchDynamicConfig, sessionHeartbeat } from "../api/service.js";
import type { ResolvedOptions } from "../client/options.js";
import { SDK_VERSION } from "../client/version.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { type ClientConfig, type DynamicConfig, parseDynamicConfig } from "./client-config.js";
import { type Connection, type ConnectionHooks, connect } from "./connection.js";
import { DynamicConfigRefresh, type DynamicConfigRefreshStats } from "./dynamic-config-refresh.js";
import type { EventRegistry } from "./events.js";
import { HeartbeatLoop, type HeartbeatStats } from "./heartbeat.js";
import { openTelemetry } from "./telemetry-link.js";

export class SessionHolder {
  private closed = false;

  private constructor(
    readonly sessionId: string,
    private readonly connection: Connection,
    private readonly heartbeat: HeartbeatLoop,
    private readonly refresh: DynamicConfigRefresh,
    /** Undefined when telemetry is off. */
    readonly telemetry: Telemetry | undefined,
  ) {}

  static async open(
    options: ResolvedOptions,
    events: EventRegistry,
    hooks: ConnectionHooks = {},
  ): Promise<SessionHolder> {
    const connection = await connect(options, hooks);
    try {
      const { http } = connection;
      const res = await createSession(
        http,
        {
          tags: options.tags,
          user_metadata: options.userMetadata,
          sdk_version: SDK_VERSION,
          ...(options.projectId !== undefined ? { project_id: options.projectId } : {}),
          type: "create_session",
        },
        { signal: hooks.signal },
      );
      const sessionId = res.session_id;
      const log = options.logger;
      if (res.info_message) log.info(res.info_message, { sessionId });
      if (res.warning_message) log.warn(res.warning_message, { sessionId });
      if (res.error_message) log.error(res.error_message, { sessionId });
      log.debug(`Session ${sessionId} created`);

      const heartbeat = new HeartbeatLoop({
        sessionId,
        send: ({ signal, timeoutMs }) => sessionHeartbeat(http, sessionId, { signal, timeout: timeoutMs }),
        clock: options.clock,
        logger: log,
        emit: (event, payload) => events.emit(event, payload),
        ...options.heartbeat,
      });
      heartbeat.start();
      // Only sessions refresh it, as in the Python SDK (session-less connections read it once).
      const refresh = new DynamicConfigRefresh({
        initial: connection.dynamicConfig,
        fetch: async (signal) => parseDynamicConfig(await fetchDynamicConfig(http, SDK_VERSION, { signal })),
        clock: options.clock,
        logger: log,
      });
      refresh.start();
      const telemetry = options.telemetry ? openTelemetry(http, sessionId, options) : undefined;
      return new SessionHolder(sessionId, connection, heartbeat, refresh, telemetry);
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  get http() {
    return this.connection.http;
  }

  get config(): ClientConfig {
    return this.connection.config;
  }

  /** The last good `client/dynamic_config` values (refreshed every max(refresh_interval_sec, 10) s). */
  get dynamicConfig(): DynamicConfig {
    return this.refresh.current;
  }

  /** Counters of the dynamic-config refresh. */
  dynamicConfigStats(): DynamicConfigRefreshStats {
    return this.refresh.stats();
  }

  get jwt() {
    return this.connection.jwt;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  heartbeatStats(): HeartbeatStats {
    return this.heartbeat.stats();
  }

  /** Stops the heartbeat (aborting a beat in flight) and the JWT refresh. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // What telemetry has queued goes out before the connection closes (one try per batch, 5 s).
    await this.telemetry?.close();
    await this.heartbeat.stop();
    await this.refresh.stop();
    this.connection.close();
  }
}
