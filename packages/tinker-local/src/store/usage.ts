// Usage events behind `GET /api/v1/billing/usage/events` and the session trace export. Each call is
// kept as one row with its time; hourly buckets are made when the events are read.
import type { Statement } from "better-sqlite3";
import type { Clock } from "../clock.js";
import type { SqliteDatabase } from "./db.js";

/** The `event_info.type`s of contract 4.16 that tinker-local records. */
export type UsageType = "training" | "sampling_prefill" | "sampling_sample" | "checkpoint";

export interface NewUsageEvent {
  owner: string;
  sessionId: string;
  baseModel: string;
  type: UsageType;
  /** Training, sampling_prefill and sampling_sample: tokens processed. */
  tokenCount?: number;
  /** sampling_prefill: whether the prompt came from a cache. Default false. */
  cached?: boolean;
  /** checkpoint: checkpoints written. Default 1. */
  count?: number;
  /** The run (`...:train:n`) or sampler (`...:sample:n`) the work was for. */
  modelId?: string | null;
  /** What the client called, e.g. `forward_backward`, `asample`; shown in the trace export. */
  operation?: string | null;
  /** How long the work took, for the trace export. */
  durationMs?: number | null;
  /** Default: the store clock's now (the time the work finished). */
  at?: number;
}

export interface UsageRecord {
  at: number;
  owner: string;
  sessionId: string;
  baseModel: string;
  type: UsageType;
  tokenCount: number | null;
  cached: boolean;
  count: number | null;
  modelId: string | null;
  operation: string | null;
  durationMs: number | null;
}

interface UsageRow {
  at: number;
  owner: string;
  session_id: string;
  base_model: string;
  type: UsageType;
  token_count: number | null;
  cached: number | null;
  count: number | null;
  model_id: string | null;
  operation: string | null;
  duration_ms: number | null;
}

function fromRow(row: UsageRow): UsageRecord {
  return {
    at: row.at,
    owner: row.owner,
    sessionId: row.session_id,
    baseModel: row.base_model,
    type: row.type,
    tokenCount: row.token_count,
    cached: row.cached === 1,
    count: row.count,
    modelId: row.model_id,
    operation: row.operation,
    durationMs: row.duration_ms,
  };
}

const COLUMNS =
  "at, owner, session_id, base_model, type, token_count, cached, count, model_id, operation, duration_ms";

function nonNegativeInteger(name: string, value: number | undefined): number | null {
  if (value === undefined) return null;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`usage ${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}

export class UsageStore {
  private readonly insertStmt: Statement;
  private readonly byOwnerStmt: Statement;
  private readonly bySessionStmt: Statement;

  constructor(
    db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO usage_events (${COLUMNS})
       VALUES (@at, @owner, @sessionId, @baseModel, @type, @tokenCount, @cached, @count, @modelId,
         @operation, @durationMs)`,
    );
    this.byOwnerStmt = db.prepare(
      `SELECT ${COLUMNS} FROM usage_events WHERE owner = ? AND at >= ? AND at < ? ORDER BY at, id`,
    );
    this.bySessionStmt = db.prepare(
      `SELECT ${COLUMNS} FROM usage_events WHERE session_id = ? ORDER BY at, id`,
    );
  }

  record(event: NewUsageEvent): void {
    const tokenCount = nonNegativeInteger("tokenCount", event.tokenCount);
    const count = nonNegativeInteger("count", event.count);
    if (event.type === "checkpoint" ? tokenCount !== null : count !== null) {
      throw new RangeError(
        event.type === "checkpoint"
          ? "checkpoint usage takes count, not tokenCount"
          : `${event.type} usage takes tokenCount, not count`,
      );
    }
    this.insertStmt.run({
      at: event.at ?? this.clock.now(),
      owner: event.owner,
      sessionId: event.sessionId,
      baseModel: event.baseModel,
      type: event.type,
      tokenCount: event.type === "checkpoint" ? null : (tokenCount ?? 0),
      cached: event.type === "sampling_prefill" ? (event.cached === true ? 1 : 0) : null,
      count: event.type === "checkpoint" ? (count ?? 1) : null,
      modelId: event.modelId ?? null,
      operation: event.operation ?? null,
      durationMs: event.durationMs ?? null,
    });
  }

  /** The owner's events with `start <= at < end`, oldest first. */
  listByOwner(owner: string, start: number, end: number): UsageRecord[] {
    return (this.byOwnerStmt.all(owner, start, end) as UsageRow[]).map(fromRow);
  }

  /** A session's events, oldest first. */
  listBySession(sessionId: string): UsageRecord[] {
    return (this.bySessionStmt.all(sessionId) as UsageRow[]).map(fromRow);
  }
}
