// JSON as Python's `json.dumps` writes it with its default separators: ", " between items and
// ": " after keys, non-ASCII kept as is. That is what Hugging Face's `tojson` filter (and
// @huggingface/jinja's) writes into chat templates, so a renderer that writes tool calls and tool
// specs this way produces the same characters, and so the same tokens, as the model's template.

/** `value` as Python's `json.dumps(value, ensure_ascii=False)` writes it. */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  if (typeof value === "object") {
    const items = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`);
    return `{${items.join(", ")}}`;
  }
  return JSON.stringify(value);
}
