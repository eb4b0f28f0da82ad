// Decoding failures get their own class so tinker-local can answer them with a 400 while the SDK
// treats them as a malformed server response. It extends ResponseValidationError because on the
// client side that is exactly what it is.

import { ResponseValidationError } from "../client/errors.js";

/** Bytes or JSON that do not follow the wire contract. `path` names the offending field. */
export class WireDecodeError extends ResponseValidationError {
  override name = "WireDecodeError";
  /** Where in the body the problem is, e.g. `sequences[0].tokens`; undefined for the body as a whole. */
  readonly path: string | undefined;
  /** The message is prefixed with `path` when there is one. */
  constructor(message: string, path?: string, options?: { cause?: unknown }) {
    super(path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}
