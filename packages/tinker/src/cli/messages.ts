// Error messages of the command line, in its own words: flags and environment variables, not the
// SDK's option names, and for failures a person can fix, what to check. Never the credential.

import {
  APIConnectionError,
  APITimeoutError,
  AuthenticationError,
  PermissionDeniedError,
  ValidationError,
} from "../client/errors.js";
import { redact } from "../client/redact.js";
import { type CommonOptions, keySource, serverUrl } from "./common.js";

/** SDK wording -> CLI wording, for messages written for SDK users (ClientOptions names). */
const CLI_WORDS: [RegExp, string][] = [
  [/pass \{ apiKey \} to ServiceClient/g, "pass --api-key"],
  [/the apiKey option/g, "--api-key"],
  [/the baseUrl option/g, "--base-url"],
  [/\bmaxRetries\b/g, "--max-retries"],
  [/\{ credentialCmd \}|the credentialCmd option/g, "TINKER_CREDENTIAL_CMD"],
];

/** A ValidationError's message with SDK option names replaced by the flags that set them. */
export function inCliWords(message: string): string {
  return CLI_WORDS.reduce((text, [from, to]) => text.replace(from, to), message);
}

/** The line printed on stderr for an error that ends the command (without "tinker: "). */
export function describeFailure(error: unknown, opts: CommonOptions): string {
  const message = redact(error instanceof Error ? error.message : String(error));
  if (error instanceof ValidationError) return inCliWords(message);
  const url = serverUrl(opts);
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    return (
      `${url} refused the API key from ${keySource(opts)} (${error.status}): ${message}. ` +
      "Check that the key is valid for this server, or pass another with --api-key or TINKER_API_KEY."
    );
  }
  if (error instanceof APIConnectionError) {
    const what = error instanceof APITimeoutError ? "did not answer in time" : "could not be reached";
    return (
      `${url} ${what}: ${message}. Check that the server is running and that --base-url ` +
      "(or TINKER_BASE_URL) points at it."
    );
  }
  return message;
}
