// A session: start-up steps 1-3 (connection.ts), then create_session, then the heartbeat loop.
// Messages the server sends with the new session are logged at their level; an error_message is
// reported but does not abort (contract 2.4).

import { createSession, sessionHeartbeat } from "../api/service.js";
import type { ResolvedOptions } from "../client/options.js";
import { SDK_VERSION } from "../client/version.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import type { ClientConfig, DynamicConfig } from "./client-config.js";
import { type Connection, type ConnectionHooks, connect } from "./connection.js";
import type { EventRegistry } from "./events.js";
import { HeartbeatLoop, type HeartbeatStats } from "./heartbeat.js";
import { openTelemetry } from "./telemetry-link.js";

export class SessionHolder {
  private closed = false;

  private constructor(
    readonly sessionId: string,
    private readonly connection: Connection,
    private readonly heartbeat: HeartbeatLoop,
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
      const telemetry = options.telemetry ? openTelemetry(http, sessionId, options) : undefined;
      return new SessionHolder(sessionId, connection, heartbeat, telemetry);
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

  get dynamicConfig(): DynamicConfig {
    return this.connection.dynamicConfig;
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
    this.connection.close();
  }
}
