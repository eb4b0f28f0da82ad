// Signed download URLs (archives, trace exports). The token is `<payload>.<signature>`: payload is
// base64url JSON naming what may be downloaded and until when; the signature is an HMAC-SHA256 of
// the payload with a secret made fresh at every server start. No API key is needed to use one,
// like the storage URLs of the hosted service.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.js";
import { HttpError } from "../errors.js";

export type SignedTarget =
  | { kind: "archive"; runId: string; checkpointId: string }
  | { kind: "trace"; sessionId: string };

interface Payload {
  t: SignedTarget;
  /** Expiry, ms since the epoch. */
  e: number;
}

const forbidden = (detail: string) => new HttpError(403, detail);

export class UrlSigner {
  private readonly secret = randomBytes(32);

  constructor(private readonly clock: Clock) {}

  /** A token valid until `expiresAt` (ms). */
  sign(target: SignedTarget, expiresAt: number): string {
    const payload = Buffer.from(JSON.stringify({ t: target, e: expiresAt } satisfies Payload)).toString(
      "base64url",
    );
    return `${payload}.${this.mac(payload).toString("base64url")}`;
  }

  /** The target of a valid, unexpired token; otherwise a 403 saying which of the two it is. */
  verify(token: string, kind: SignedTarget["kind"]): SignedTarget {
    const dot = token.indexOf(".");
    const payload = token.slice(0, dot);
    const signature = Buffer.from(token.slice(dot + 1), "base64url");
    const expected = this.mac(payload);
    if (dot <= 0 || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw forbidden("Invalid signature: this download URL was not issued by this server or was altered");
    }
    const parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Payload;
    if (parsed.t.kind !== kind) throw forbidden(`This signed URL is not for a ${kind} download`);
    if (this.clock.now() >= parsed.e) {
      throw forbidden(`This download URL expired at ${new Date(parsed.e).toISOString()}; request a new one`);
    }
    return parsed.t;
  }

  private mac(payload: string): Buffer {
    return createHmac("sha256", this.secret).update(payload).digest();
  }
}
