// The response headers of the Node transport. A web `Headers` is what every SDK type promises, but
// the first `Headers` a Node process makes loads Node's bundled undici, about 6 MiB of resident
// memory (node -e 'new Headers()' against a bare node:http import: 43.9 -> 49.9 MiB), and the SDK
// itself only ever calls `get` and `has` on a response's headers. So `get` and `has` read Node's
// parsed header object directly, and a real Headers is made only when anything else is called
// (iteration, a change, a web Response for a streamed body), after which it answers everything.

/** Node's parsed headers: lower-case names, an array for a repeated Set-Cookie. */
export type NodeHeaderRecord = Record<string, string | string[] | undefined>;

/** Node's raw header object as web Headers (each repeated value appended). */
export function toHeaders(raw: NodeHeaderRecord): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined) continue;
    if (typeof value === "string") headers.append(name, value);
    else for (const v of value) headers.append(name, v);
  }
  return headers;
}

/** Headers over Node's parsed headers; a real Headers is made on the first call beyond get/has. */
export class NodeHeaders implements Headers {
  readonly #raw: NodeHeaderRecord;
  #real: Headers | undefined;

  constructor(raw: NodeHeaderRecord) {
    this.#raw = raw;
  }

  /** The real Headers, made once. */
  #headers(): Headers {
    this.#real ??= toHeaders(this.#raw);
    return this.#real;
  }

  get(name: string): string | null {
    if (this.#real) return this.#real.get(name);
    const value = this.#raw[name.toLowerCase()];
    if (value === undefined) return null;
    // As Headers.get: repeated values joined with ", ".
    return typeof value === "string" ? value : value.join(", ");
  }

  has(name: string): boolean {
    if (this.#real) return this.#real.has(name);
    return this.#raw[name.toLowerCase()] !== undefined;
  }

  getSetCookie(): string[] {
    return this.#headers().getSetCookie();
  }

  append(name: string, value: string): void {
    this.#headers().append(name, value);
  }

  delete(name: string): void {
    this.#headers().delete(name);
  }

  set(name: string, value: string): void {
    this.#headers().set(name, value);
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#headers().forEach((value, key) => {
      callback.call(thisArg, value, key, this);
    });
  }

  entries(): ReturnType<Headers["entries"]> {
    return this.#headers().entries();
  }

  keys(): ReturnType<Headers["keys"]> {
    return this.#headers().keys();
  }

  values(): ReturnType<Headers["keys"]> {
    return this.#headers().values();
  }

  [Symbol.iterator](): ReturnType<Headers["entries"]> {
    return this.#headers()[Symbol.iterator]();
  }

  /** As a real Headers prints in logs and assertions. */
  get [Symbol.toStringTag](): string {
    return "Headers";
  }
}
