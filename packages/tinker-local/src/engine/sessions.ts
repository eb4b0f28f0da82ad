// Session rules: creation, heartbeats, expiry, ownership. Expiry is lazy: a session is found to be
// expired when someone asks for it, and the moment it expired is then written down.
import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import { notFound } from "../errors.js";
import type { SessionRecord, SessionStore } from "../store/sessions.js";

export interface CreateSessionInput {
  tags: string[];
  userMetadata: Record<string, unknown> | null;
  sdkVersion: string;
  projectId: string | null;
}

/** `sess-` plus 20 hex digits. No colons: model ids are `<session_id>:train:<n>`. */
export function newSessionId(): string {
  return `sess-${randomBytes(10).toString("hex")}`;
}

export class SessionService {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  create(owner: string, input: CreateSessionInput): SessionRecord {
    return this.store.insert({ id: newSessionId(), owner, createdAt: this.clock.now(), ...input });
  }

  /**
   * The session if it exists, belongs to `owner` and has not expired; otherwise a 404.
   * Another user's session is reported exactly like a missing one.
   */
  requireActive(owner: string, sessionId: string): SessionRecord {
    const session = this.store.get(sessionId);
    if (session === undefined || session.owner !== owner) {
      throw notFound(`Session not found: ${sessionId}`);
    }
    const expiredAt = session.expiredAt ?? this.expiryIfDue(session);
    if (expiredAt !== null) {
      throw notFound(
        `Session expired: ${sessionId} (no heartbeat for more than ${this.ttlMs / 1000} s); create a new session`,
      );
    }
    return session;
  }

  heartbeat(owner: string, sessionId: string): SessionRecord {
    const session = this.requireActive(owner, sessionId);
    const now = this.clock.now();
    this.store.recordHeartbeat(session.id, now);
    return { ...session, heartbeatCount: session.heartbeatCount + 1, lastHeartbeatAt: now };
  }

  /** Records and returns the expiry time when the TTL has run out since the last sign of life. */
  private expiryIfDue(session: SessionRecord): number | null {
    const lastSeen = session.lastHeartbeatAt ?? session.createdAt;
    if (this.clock.now() - lastSeen <= this.ttlMs) return null;
    const expiredAt = lastSeen + this.ttlMs;
    this.store.markExpired(session.id, expiredAt);
    return expiredAt;
  }
}
