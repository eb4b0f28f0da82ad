// Where the X-API-Key value comes from (contract 1.2). The HTTP core asks its AuthProvider once per
// attempt, so a JWT refreshed between retries is picked up.
//
//  - ApiKeyAuth: a fixed credential (plain mode).
//  - CredentialCommandAuth: runs TINKER_CREDENTIAL_CMD through `sh -c` on every call; used only for
//    the token exchange, where the contract wants a fresh credential per fetch.
//  - JwtAuth: a short-lived JWT from POST /api/v1/auth/token, refreshed in the background 300 s
//    before `exp`, on demand when <= 60 s are left, single-flight.

import type { JWTPayload } from "jose";
import type { Clock, TimerHandle } from "./clock.js";
import { TinkerError, ValidationError } from "./errors.js";
import type { Logger } from "./logger.js";
import { checkCredentialFormat } from "./options.js";
import { registerSecret } from "./redact.js";

export interface AuthProvider {
  /** The X-API-Key value for the next attempt. */
  apiKey(): Promise<string>;
  /** Stops background work (refresh timers). Idempotent. */
  close(): void;
}

// Credentials live in #private fields so that util.inspect / console.log of an SDK object never
// prints them.
export class ApiKeyAuth implements AuthProvider {
  readonly #key: string;
  constructor(key: string) {
    registerSecret(key);
    this.#key = key;
  }
  apiKey(): Promise<string> {
    return Promise.resolve(this.#key);
  }
  close(): void {}
}

/** The credential command failed or printed something unusable. */
export class CredentialCommandError extends TinkerError {
  override name = "CredentialCommandError";
}

const CREDENTIAL_CMD_TIMEOUT_MS = 30_000;

/** Runs `cmd` with `sh -c`; returns its trimmed stdout, checked to look like a credential. */
export async function runCredentialCommand(cmd: string): Promise<string> {
  const { execFile } = await import("node:child_process");
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      "sh",
      ["-c", cmd],
      { timeout: CREDENTIAL_CMD_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: "utf8" },
      (error, out, err) => {
        if (error) {
          // stdout may hold a partial secret: only the exit status and stderr are reported.
          const detail = String(err ?? "")
            .trim()
            .slice(0, 500);
          reject(
            new CredentialCommandError(
              `TINKER_CREDENTIAL_CMD failed (${error.code ?? error.signal ?? "error"})${detail ? `: ${detail}` : ""}`,
            ),
          );
        } else resolve(String(out));
      },
    );
  });
  const credential = stdout.trim();
  if (credential === "") throw new CredentialCommandError("TINKER_CREDENTIAL_CMD printed nothing on stdout");
  registerSecret(credential);
  checkCredentialFormat(credential, "TINKER_CREDENTIAL_CMD");
  return credential;
}

export class CredentialCommandAuth implements AuthProvider {
  constructor(private readonly cmd: string) {}
  apiKey(): Promise<string> {
    return runCredentialCommand(this.cmd);
  }
  close(): void {}
}

// jose is loaded on first need, not when the SDK is imported: most processes never see a JWT, and
// loading it costs each of them several MiB of memory.
let jose: typeof import("jose") | undefined;

/** Loads the JWT decoder once; `decodeClaims` needs it loaded. */
export async function loadJwtDecoder(): Promise<void> {
  jose ??= await import("jose");
}

/**
 * Claims of a JWT, decoded without checking the signature (the server checks it). Synchronous, so
 * a refresh stores the token and its expiry in one step; call `loadJwtDecoder()` first.
 */
export function decodeClaims(token: string): JWTPayload | undefined {
  if (!jose) throw new Error("internal: decodeClaims() before loadJwtDecoder()");
  try {
    return jose.decodeJwt(token);
  } catch {
    return undefined;
  }
}

/** `decodeClaims` for a caller that has not loaded the decoder: loads it first. */
export async function readClaims(token: string): Promise<JWTPayload | undefined> {
  await loadJwtDecoder();
  return decodeClaims(token);
}

/** `exp` in ms since the epoch; 0 (already expired) when missing or not a number. */
export function expiryMs(claims: JWTPayload | undefined): number {
  const exp = claims?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : 0;
}

/** Who the credential belongs to (`RestClient.whoami()`, `tinker whoami`), read from its JWT claims. */
export interface Identity {
  /** The user's URN, e.g. `tinker:user:…` (the JWT `sub`). */
  userUrn: string;
  /** The user's e-mail; null when the credential carries none. */
  email: string | null;
}

/** Identity from JWT claims (contract 3.12): `sub` is the user URN, an empty `email` means none. */
export function identityFromClaims(claims: JWTPayload | undefined): Identity {
  if (!claims || typeof claims.sub !== "string" || claims.sub === "") {
    throw new ValidationError("The credential carries no user identity (no 'sub' claim).");
  }
  const email = typeof claims.email === "string" && claims.email !== "" ? claims.email : null;
  return { userUrn: claims.sub, email };
}

export interface JwtAuthOptions {
  /** Fetches a new JWT (POST /api/v1/auth/token with the credential). */
  fetchToken: () => Promise<string>;
  clock: Clock;
  logger: Logger;
  /** Background refresh this long before `exp`. Default 300 000 ms. */
  refreshBeforeMs?: number;
  /** Refresh before answering when at most this much validity is left. Default 60 000 ms. */
  onDemandMs?: number;
  /** After a failed background refresh, wait this long before the next try. Default 60 000 ms. */
  retryAfterFailureMs?: number;
}

export class JwtAuth implements AuthProvider {
  #token: string | undefined;
  private claims: JWTPayload | undefined;
  private expiresAt = 0;
  private inflight: Promise<string> | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;
  private refreshCount = 0;
  private readonly refreshBeforeMs: number;
  private readonly onDemandMs: number;
  private readonly retryAfterFailureMs: number;

  constructor(private readonly options: JwtAuthOptions) {
    this.refreshBeforeMs = options.refreshBeforeMs ?? 300_000;
    this.onDemandMs = options.onDemandMs ?? 60_000;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 60_000;
  }

  /** Fetches the first token; errors propagate so the caller's construction fails. */
  async start(): Promise<void> {
    await loadJwtDecoder();
    await this.refresh();
  }

  async apiKey(): Promise<string> {
    const token = this.#token;
    if (token !== undefined && this.expiresAt - this.options.clock.now() > this.onDemandMs) return token;
    try {
      return await this.refresh();
    } catch (error) {
      // A token that has not expired yet is still better than failing the call.
      if (token !== undefined && this.expiresAt > this.options.clock.now()) {
        this.options.logger.warn("JWT refresh failed; using the current token until it expires", { error });
        return token;
      }
      throw error;
    }
  }

  /** Decoded claims of the current token. */
  currentClaims(): JWTPayload | undefined {
    return this.claims;
  }

  /** How many tokens have been fetched (the first one included). */
  get fetchCount(): number {
    return this.refreshCount;
  }

  whoami(): Identity {
    return identityFromClaims(this.claims);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Fetches a new token; concurrent callers share one fetch. */
  refresh(): Promise<string> {
    this.inflight ??= this.fetchAndStore().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchAndStore(): Promise<string> {
    const token = await this.options.fetchToken();
    registerSecret(token);
    this.#token = token;
    this.claims = decodeClaims(token);
    this.expiresAt = expiryMs(this.claims);
    this.refreshCount++;
    if (this.expiresAt === 0) {
      this.options.logger.warn(
        "The server's JWT has no usable 'exp' claim; it will be refreshed before every request",
      );
    }
    this.options.logger.debug("JWT obtained", { expiresInMs: this.expiresAt - this.options.clock.now() });
    this.scheduleBackground();
    return token;
  }

  private scheduleBackground(delayMs?: number): void {
    if (this.closed) return;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    // Without a usable exp every request refreshes on demand; a background loop would only spin.
    if (delayMs === undefined && this.expiresAt === 0) return;
    const now = this.options.clock.now();
    const remaining = this.expiresAt - now;
    // 300 s before exp; for tokens shorter-lived than that, at half their remaining life, so the
    // background loop never degenerates into back-to-back fetches.
    const wait = delayMs ?? Math.max(remaining - this.refreshBeforeMs, remaining / 2, 1_000);
    this.timer = this.options.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.refresh().catch((error) => {
          this.options.logger.warn(
            `Background JWT refresh failed; trying again in ${Math.round(this.retryAfterFailureMs / 1000)} s`,
            { error },
          );
          this.scheduleBackground(this.retryAfterFailureMs);
        });
      },
      wait,
      { background: true },
    );
  }
}
