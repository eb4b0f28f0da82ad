// A small reader that validates JSON bodies with messages naming the offending field.
import { badRequest } from "../errors.js";

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (Buffer.isBuffer(value)) return "binary data";
  return `a ${typeof value}`;
}

/**
 * Reads fields of a JSON request body. Every getter throws a 400 HttpError whose message names the
 * field (with its path for nested objects), so handlers stay one line per field.
 * `null` counts as absent for optional fields, matching clients that send `null` for unset values.
 */
export class BodyReader {
  private constructor(
    private readonly body: JsonObject,
    private readonly prefix: string,
  ) {}

  /** Fails with 400 unless the parsed body is a JSON object. */
  static of(body: unknown): BodyReader {
    if (Buffer.isBuffer(body)) {
      throw badRequest("Request body must be JSON (Content-Type: application/json)");
    }
    if (!isJsonObject(body)) {
      throw badRequest(
        `Request body must be a JSON object, got ${body === undefined ? "nothing" : describe(body)}`,
      );
    }
    return new BodyReader(body, "");
  }

  get raw(): JsonObject {
    return this.body;
  }

  private name(field: string): string {
    return `${this.prefix}${field}`;
  }

  private fail(field: string, expected: string, value: unknown): never {
    if (value === undefined) throw badRequest(`Field '${this.name(field)}' is required (${expected})`);
    throw badRequest(`Field '${this.name(field)}' must be ${expected}, got ${describe(value)}`);
  }

  has(field: string): boolean {
    const value = this.body[field];
    return value !== undefined && value !== null;
  }

  string(field: string): string {
    const value = this.body[field];
    if (typeof value !== "string") this.fail(field, "a string", value);
    return value;
  }

  optionalString(field: string): string | undefined {
    return this.has(field) ? this.string(field) : undefined;
  }

  stringArray(field: string): string[] {
    const value = this.body[field];
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
      this.fail(field, "an array of strings", value);
    }
    return value as string[];
  }

  array(field: string): unknown[] {
    const value = this.body[field];
    if (!Array.isArray(value)) this.fail(field, "an array", value);
    return value;
  }

  integer(field: string, min = Number.MIN_SAFE_INTEGER): number {
    const value = this.body[field];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
      this.fail(field, min === 0 ? "a non-negative integer" : `an integer >= ${min}`, value);
    }
    return value;
  }

  optionalInteger(field: string, min?: number): number | undefined {
    return this.has(field) ? this.integer(field, min) : undefined;
  }

  number(field: string): number {
    const value = this.body[field];
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(field, "a finite number", value);
    return value;
  }

  optionalNumber(field: string): number | undefined {
    return this.has(field) ? this.number(field) : undefined;
  }

  boolean(field: string): boolean {
    const value = this.body[field];
    if (typeof value !== "boolean") this.fail(field, "a boolean", value);
    return value;
  }

  optionalBoolean(field: string): boolean | undefined {
    return this.has(field) ? this.boolean(field) : undefined;
  }

  /** The key must be present; its value may be an object or null. */
  objectOrNull(field: string): JsonObject | null {
    const value = this.body[field];
    if (value === null) return null;
    if (!isJsonObject(value)) this.fail(field, "an object or null", value);
    return value;
  }

  /** A nested object read with the same rules; messages use the dotted path. */
  object(field: string): BodyReader {
    const value = this.body[field];
    if (!isJsonObject(value)) this.fail(field, "an object", value);
    return new BodyReader(value, `${this.name(field)}.`);
  }

  optionalObject(field: string): BodyReader | undefined {
    return this.has(field) ? this.object(field) : undefined;
  }

  /** Request `type` discriminators (contract 3.10): optional, but when present must be exact. */
  optionalLiteral<T extends string>(field: string, expected: T): T | undefined {
    if (!this.has(field)) return undefined;
    const value = this.body[field];
    if (value !== expected) {
      throw badRequest(
        `Field '${this.name(field)}' must be "${expected}", got ${typeof value === "string" ? JSON.stringify(value) : describe(value)}`,
      );
    }
    return expected;
  }
}
