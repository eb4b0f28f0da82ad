// One error class for everything a renderer or the model registry refuses, so callers can catch
// the cookbook's refusals apart from transport or server errors of the SDK.

import { TinkerError } from "tinker-ts";

/**
 * A conversation a renderer cannot render as asked (a tool call with unreadable arguments, a
 * system message where the format has no place for one, an unknown renderer or model name), or a
 * response it cannot parse because sampling used the wrong stop sequences. The message says what
 * to change.
 */
export class RendererError extends TinkerError {
  /** Always `"RendererError"`, so a caught error can be told apart by name as well as by class. */
  override name = "RendererError";
}
