// API keys, users and JWTs. Each configured key is one user, identified by a hash of the key so the
// key itself is never stored or logged. JWTs are HS256 with a secret generated per server start.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FastifyRequest } from "fastify";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { Clock } from "../clock.js";
import { unauthorized } from "../errors.js";

/** Accepted when no key is configured. Documented, so printing it is fine; no other key is ever printed. */
export const DEFAULT_LOCAL_API_KEY = "tml-local-dev";
export const JWT_ISSUER = "tinker-local";
export const API_KEY_HEADER = "x-api-key";

/** Who sent a request: one configured API key, known by a hash of it (never the key itself). */
export interface AuthUser {
  /** Owner id used for isolation in the store: `user:<12 hex>`. */
  readonly id: string;
  /** The same user as a URN, the JWT `sub` claim: `tinker:user:<12 hex>`. */
  readonly urn: string;
  /** How this request proved who it is. */
  readonly via: "api_key" | "jwt";
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on every authenticated route; null on routes without auth and on 404s. */
    user: AuthUser | null;
  }
  interface FastifyContextConfig {
    /** `false` opens a route to requests without `X-API-Key` (healthz only). */
    auth?: boolean;
  }
}

const OWNER_PREFIX = "user:";
const URN_PREFIX = "tinker:";

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The owner id of an API key: `user:` and the first 12 hex digits of its SHA-256. */
export function ownerIdForKey(key: string): string {
  return `${OWNER_PREFIX}${sha256Hex(key).slice(0, 12)}`;
}

function userFromOwnerId(id: string, via: AuthUser["via"]): AuthUser {
  return { id, urn: `${URN_PREFIX}${id}`, via };
}

/** One key per line; blank lines and lines starting with `#` are ignored; surrounding spaces trimmed. */
export function parseKeysFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

export function loadKeysFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read keys file ${path}: ${(error as Error).message}`);
  }
  return parseKeysFile(text);
}

/** The `X-API-Key` value, the one credential header the Tinker clients send. */
export function presentedCredential(request: FastifyRequest): string | undefined {
  const value = request.headers[API_KEY_HEADER];
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

/** The authenticated user of a request on an authenticated route. */
export function requireUser(request: FastifyRequest): AuthUser {
  if (request.user === null) throw unauthorized("Not authenticated");
  return request.user;
}

const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/;
const SUB_SHAPE = /^tinker:user:[0-9a-f]{12}$/;

export interface AuthenticatorOptions {
  /** Raw keys. Empty means the default local key is accepted. */
  keys: readonly string[];
  jwtTtlSeconds: number;
  clock: Clock;
}

export class Authenticator {
  /** True when no key was configured and `tml-local-dev` is accepted. */
  readonly usingDefaultKey: boolean;
  readonly userCount: number;
  private readonly usersByKeyHash = new Map<string, AuthUser>();
  private readonly secret = new Uint8Array(randomBytes(32));
  private readonly jwtTtlSeconds: number;
  private readonly clock: Clock;

  constructor(options: AuthenticatorOptions) {
    const keys = options.keys.length > 0 ? options.keys : [DEFAULT_LOCAL_API_KEY];
    this.usingDefaultKey = options.keys.length === 0;
    for (const key of keys) {
      if (key.trim() !== key || key === "")
        throw new Error("API keys must be non-empty and have no spaces around them");
      this.usersByKeyHash.set(sha256Hex(key), userFromOwnerId(ownerIdForKey(key), "api_key"));
    }
    this.userCount = new Set([...this.usersByKeyHash.values()].map((user) => user.id)).size;
    this.jwtTtlSeconds = options.jwtTtlSeconds;
    this.clock = options.clock;
  }

  /** Resolves an `X-API-Key` value (raw key or one of our JWTs) to a user, or throws a 401. */
  async authenticate(credential: string | undefined): Promise<AuthUser> {
    if (credential === undefined) {
      throw unauthorized("Missing X-API-Key header");
    }
    const byKey = this.usersByKeyHash.get(sha256Hex(credential));
    if (byKey !== undefined) return byKey;
    if (JWT_SHAPE.test(credential)) return this.verifyToken(credential);
    throw unauthorized("Invalid API key");
  }

  /** A JWT for `user`, valid for the configured lifetime from the server clock's now. */
  async issueToken(user: AuthUser): Promise<string> {
    const issuedAt = Math.floor(this.clock.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user.urn)
      .setIssuer(JWT_ISSUER)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.jwtTtlSeconds)
      .sign(this.secret);
  }

  private async verifyToken(token: string): Promise<AuthUser> {
    let sub: unknown;
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ["HS256"],
        issuer: JWT_ISSUER,
        requiredClaims: ["exp", "sub"],
        currentDate: new Date(this.clock.now()),
      });
      sub = payload.sub;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw unauthorized("Token expired; get a new one from POST /api/v1/auth/token");
      }
      throw unauthorized("Invalid token");
    }
    if (typeof sub !== "string" || !SUB_SHAPE.test(sub)) throw unauthorized("Invalid token");
    return userFromOwnerId(sub.slice(URN_PREFIX.length), "jwt");
  }
}
