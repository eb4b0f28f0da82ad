// Typed events a ServiceClient emits, and a small listener registry for them. A listener that throws
// is reported through the logger and never reaches the code that emitted the event (the heartbeat
// loop must keep running whatever a listener does).

import { ValidationError } from "../client/errors.js";
import type { Logger } from "../client/logger.js";

/** Heartbeats have been failing for a while (repeated at intervals while they keep failing). */
export interface HeartbeatWarningEvent {
  /** The session whose heartbeats fail. */
  sessionId: string;
  /** Time since the last successful heartbeat (or since the session opened). */
  sinceLastSuccessMs: number;
  /** Failed beats in a row. */
  consecutiveFailures: number;
  /** The error of the latest failed beat. */
  lastError: Error | undefined;
}

/** A heartbeat succeeded again after a warning. */
export interface HeartbeatRecoveredEvent {
  /** The session that recovered. */
  sessionId: string;
  /** Time between the last success before the outage and the first success after it. */
  outageMs: number;
}

/** The server refused a heartbeat outright (401, 403, 404): the session is probably gone. */
export interface HeartbeatErrorEvent {
  /** The session whose heartbeat was refused. */
  sessionId: string;
  /** 401, 403 or 404: the server rejects the heartbeat itself, not just a transient failure. */
  status: number;
}

/** The events a ServiceClient emits (`client.on(name, listener)`), by name, with their payloads. */
export interface TinkerEvents {
  /** Heartbeats keep failing; the server may end the session if this continues. */
  heartbeatWarning: HeartbeatWarningEvent;
  /** Heartbeats work again after a warning. */
  heartbeatRecovered: HeartbeatRecoveredEvent;
  /** The server refused a heartbeat (the session is likely lost). */
  heartbeatError: HeartbeatErrorEvent;
}

/** The name of one of the {@link TinkerEvents}. */
export type TinkerEventName = keyof TinkerEvents;
/** A listener of event `E`. One that throws is logged and does not affect the client. */
export type TinkerListener<E extends TinkerEventName> = (event: TinkerEvents[E]) => void;

export class EventRegistry {
  private readonly listeners: { [E in TinkerEventName]: Set<TinkerListener<E>> } = {
    heartbeatWarning: new Set(),
    heartbeatRecovered: new Set(),
    heartbeatError: new Set(),
  };

  constructor(private readonly logger: Logger) {}

  /** Adds a listener; returns a function that removes it. */
  on<E extends TinkerEventName>(event: E, listener: TinkerListener<E>): () => void {
    const set = this.listeners[event] as Set<TinkerListener<E>> | undefined;
    if (!set) {
      throw new ValidationError(
        `Unknown event: ${String(event)}; known: ${Object.keys(this.listeners).join(", ")}`,
        "event",
      );
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<E extends TinkerEventName>(event: E, listener: TinkerListener<E>): void {
    (this.listeners[event] as Set<TinkerListener<E>> | undefined)?.delete(listener);
  }

  emit<E extends TinkerEventName>(event: E, payload: TinkerEvents[E]): void {
    for (const listener of this.listeners[event] as Set<TinkerListener<E>>) {
      try {
        listener(payload);
      } catch (error) {
        this.logger.error(`A '${event}' listener threw`, { error });
      }
    }
  }
}
