// Flag checking shared by the examples. A bad value is the user's to fix, not a crash: it prints
// "<program>: <message>" on stderr and exits with code 2, before anything is trained.

export interface ExampleCli {
  /** Reports a bad flag and exits with code 2. */
  usage(message: string): never;
  positiveInt(text: string, name: string): number;
  nonNegativeInt(text: string, name: string): number;
}

/**
 * The checks for one example, whose messages start with `program`. Declare the result with its
 * type (`const cli: ExampleCli = exampleCli(...)`): only then does TypeScript know that
 * `cli.usage(...)` does not return and narrow types after it.
 */
export function exampleCli(program: string): ExampleCli {
  function usage(message: string): never {
    process.stderr.write(`${program}: ${message}\n`);
    process.exit(2);
  }
  return {
    usage,
    positiveInt(text, name) {
      const n = Number(text);
      if (!Number.isInteger(n) || n <= 0) usage(`${name} must be a positive integer, got ${text}`);
      return n;
    },
    nonNegativeInt(text, name) {
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0) usage(`${name} must be an integer >= 0, got ${text}`);
      return n;
    },
  };
}
