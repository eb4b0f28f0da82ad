// The exit-code table of docs/rest-and-cli.md, one row per error class.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommanderError } from "commander";
import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  ArchiveError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  CredentialCommandError,
  InternalServerError,
  NotFoundError,
  PageLimitError,
  PermissionDeniedError,
  RateLimitError,
  ResponseValidationError,
  TraceExportFailedError,
  UnprocessableEntityError,
  UnsupportedServerError,
  ValidationError,
} from "tinker-ts";
import { EXIT, exitCodeFor } from "../src/cli/exit-codes.js";

const h = new Headers();

describe("exitCodeFor", () => {
  it("maps each error class to its documented code", () => {
    const rows: [unknown, number][] = [
      [new CommanderError(1, "commander.unknownOption", "unknown option"), EXIT.usage],
      [new CommanderError(0, "commander.helpDisplayed", "help"), EXIT.ok],
      [new ValidationError("bad"), EXIT.usage],
      [new PageLimitError(10, 20), EXIT.usage],
      [new BadRequestError(400, "x", h), EXIT.usage],
      [new UnprocessableEntityError(422, "x", h), EXIT.usage],
      [new AuthenticationError(401, "x", h), EXIT.auth],
      [new PermissionDeniedError(403, "x", h), EXIT.auth],
      [new CredentialCommandError("cmd failed"), EXIT.auth],
      [new NotFoundError(404, "x", h), EXIT.notFound],
      [new ConflictError(409, "x", h), EXIT.conflict],
      [new InternalServerError(503, "x", h), EXIT.unavailable],
      [new RateLimitError(429, "x", h), EXIT.unavailable],
      [new APIConnectionError("refused"), EXIT.unavailable],
      [new APITimeoutError("slow"), EXIT.unavailable],
      [new ResponseValidationError("shape"), EXIT.unavailable],
      [new UnsupportedServerError("404 on client/config"), EXIT.unavailable],
      [new ArchiveError("cut off"), EXIT.failure],
      [new TraceExportFailedError("s1", "boom"), EXIT.failure],
      [new APIError(418, "x", h), EXIT.failure],
      [new Error("unexpected"), EXIT.failure],
    ];
    for (const [error, code] of rows) assert.equal(exitCodeFor(error), code, String(error));
    assert.deepEqual(Object.values(EXIT), [0, 1, 2, 3, 4, 5, 6]);
  });
});
