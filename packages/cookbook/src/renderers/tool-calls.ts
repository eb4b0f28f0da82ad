// Tool-call arguments travel as JSON text (OpenAI's shape). Renderers write them re-serialized
// the way the models' templates do, so the text a caller stored (compact or pretty) does not
// change the tokens; a call whose arguments are not a JSON object is refused before rendering.

import { RendererError } from "../errors.js";
import { pythonJson } from "../json.js";
import type { ToolCall, UnparsedToolCall } from "../messages.js";

/** The arguments of `call` as a value; a RendererError when they are not a JSON object. */
export function argumentsOf(call: ToolCall): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(call.function.arguments);
  } catch (cause) {
    throw new RendererError(
      `tool call ${JSON.stringify(call.function.name)} has arguments that are not JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new RendererError(
      `tool call ${JSON.stringify(call.function.name)} needs a JSON object as arguments`,
    );
  return value as Record<string, unknown>;
}

/** The arguments as the templates write them (Python `json.dumps` spacing). */
export function templateArguments(call: ToolCall): string {
  return pythonJson(argumentsOf(call));
}

/** A tool call from a name and parsed arguments; the arguments are stored as compact JSON. */
export function toolCall(name: string, args: unknown): ToolCall {
  return { type: "function", function: { name, arguments: JSON.stringify(args) } };
}

/** A tool call the model wrote that could not be read. */
export function unparsed(rawText: string, error: string): UnparsedToolCall {
  return { rawText, error };
}
