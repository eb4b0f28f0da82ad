// Exit codes of `tinker`, one per kind of failure, so scripts can tell "fix your input" from "log in
// again" from "try again later". The table is in docs/rest-and-cli.md; keep the two in step.

import { CommanderError } from "commander";
import { PageLimitError } from "../api/paging.js";
import { CredentialCommandError } from "../client/auth.js";
import {
  APIConnectionError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseValidationError,
  UnprocessableEntityError,
  ValidationError,
} from "../client/errors.js";
import { UnsupportedServerError } from "../session/client-config.js";
import { HubRequestError } from "./push-hf/hub.js";
import { HubAuthError } from "./push-hf/hub-credentials.js";

export const EXIT = {
  /** Success. */
  ok: 0,
  /** Anything not listed below (a broken archive, a failed trace export, an unexpected error). */
  failure: 1,
  /** The command line or its input is wrong: unknown option, bad path, bad TTL, server 400/422. */
  usage: 2,
  /** The credential was refused (401/403) or could not be obtained (the Tinker key or, for push-hf, the Hugging Face token). */
  auth: 3,
  /** The run, checkpoint, session or sampler does not exist (404). */
  notFound: 4,
  /** The change conflicts with the current state (409: already public/private). */
  conflict: 5,
  /** No usable answer: connection refused, timeout, 5xx, 429 after retries, a malformed response (from Tinker, or the Hub for push-hf). */
  unavailable: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof ValidationError || error instanceof PageLimitError) return EXIT.usage;
  if (error instanceof BadRequestError || error instanceof UnprocessableEntityError) return EXIT.usage;
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) return EXIT.auth;
  if (error instanceof CredentialCommandError || error instanceof HubAuthError) return EXIT.auth;
  if (error instanceof HubRequestError) {
    // The Hub: no answer or a 5xx is "try again later"; other statuses (404, 409, 400...) are failures.
    return error.status === undefined || error.status >= 500 ? EXIT.unavailable : EXIT.failure;
  }
  if (error instanceof NotFoundError) return EXIT.notFound;
  if (error instanceof ConflictError) return EXIT.conflict;
  if (
    error instanceof APIConnectionError ||
    error instanceof InternalServerError ||
    error instanceof RateLimitError ||
    error instanceof ResponseValidationError ||
    error instanceof UnsupportedServerError
  ) {
    return EXIT.unavailable;
  }
  return EXIT.failure;
}
