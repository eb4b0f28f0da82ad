// Where a RestClient's session-less connection comes from: its ServiceClient's, or one it opens
// itself on first use (start-up steps 1-3 only: client/config, the JWT exchange, dynamic_config),
// with the session-less telemetry (`sessionless-<uuid>`) its failures are reported to.

import { ClientClosedError } from "../../client/errors.js";
import { type ClientOptions, resolveOptions } from "../../client/options.js";
import { type Connection, connect } from "../../session/connection.js";
import { openTelemetry } from "../../session/telemetry-link.js";
import type { Telemetry } from "../../telemetry/telemetry.js";

/** Something that hands out the session-less connection (a ServiceClient does). */
export interface ConnectionSource {
  /** The connection, opened on first use. */
  connection(): Promise<Connection>;
  /** The connection's session-less telemetry; undefined before it opens and when telemetry is off. */
  sessionlessTelemetry(): Telemetry | undefined;
}

/**
 * A connection source of a standalone RestClient: connects on first use (again after a failed
 * attempt) and refuses once `isClosed()`; `close` sends what telemetry has queued and stops the
 * connection's JWT refresh. Throws a ValidationError at once when `options` are unusable.
 */
export function ownConnection(
  options: ClientOptions,
  isClosed: () => boolean,
): { source: ConnectionSource; close(): Promise<void> } {
  const resolved = resolveOptions(options);
  let pending: Promise<Connection> | undefined;
  let conn: Connection | undefined;
  let telemetry: Telemetry | undefined;
  const lifetime = new AbortController();
  return {
    source: {
      sessionlessTelemetry: () => telemetry,
      connection: () => {
        if (isClosed()) return Promise.reject(new ClientClosedError("This RestClient is closed."));
        pending ??= connect(resolved, { signal: lifetime.signal }).then(
          (c) => {
            conn = c;
            if (resolved.telemetry) telemetry = openTelemetry(c.http, undefined, resolved);
            return c;
          },
          (error: unknown) => {
            pending = undefined;
            throw error;
          },
        );
        return pending;
      },
    },
    close: async () => {
      lifetime.abort(new ClientClosedError("This RestClient is closed."));
      await telemetry?.close();
      conn?.close();
    },
  };
}
