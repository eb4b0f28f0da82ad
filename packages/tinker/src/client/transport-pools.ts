// Which connection pool a request goes through (contract 1.7). The official client keeps separate
// pools so that one kind of traffic cannot take the connections another needs: a thousand
// retrieve_future long polls must not hold up a session heartbeat or a training submission.
//
// The official pools are HTTP/2 clients carrying N requests each (TRAIN 1, the others 50), each with
// httpx's limit of 1000 connections. Over HTTP/1.1 a connection carries one request at a time, so
// "N in flight per client" becomes one request per connection everywhere (TRAIN's rule: large uploads
// never share a connection), and each pool's connection cap is httpx's 1000. Caps are per origin.

/** The pools of contract 1.7 the SDK uses (the one-off and redirect pools fold into these). */
export type PoolKind = "session" | "train" | "sample" | "retrieve" | "telemetry";

/** Connections per pool and origin: httpx's `max_connections` in the official client (contract 1.7). */
export const POOL_CONNECTIONS = 1000;

const BY_ENDPOINT: Record<string, PoolKind> = {
  create_session: "session",
  session_heartbeat: "session",
  heartbeat: "session",
  create_sampling_session: "session",
  "client/dynamic_config": "session",
  // One-off pools in the official client; a handful of requests per session.
  "client/config": "session",
  "auth/token": "session",
  healthz: "session",
  asample: "sample",
  retrieve_future: "retrieve",
  telemetry: "telemetry",
};

const API_PREFIX = "/api/v1/";

/**
 * The pool for a request path. The base URL may carry a prefix (`/services/tinker-prod/api/v1/…`),
 * so the endpoint is what follows the last `/api/v1/`. Everything not named (training, weights,
 * REST) is TRAIN, as in the contract's table.
 */
export function poolFor(pathname: string): PoolKind {
  const at = pathname.lastIndexOf(API_PREFIX);
  if (at < 0) return "train";
  return BY_ENDPOINT[pathname.slice(at + API_PREFIX.length)] ?? "train";
}
