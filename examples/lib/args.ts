// Flag parsing and checking shared by the examples. A bad value is the user's to fix, not a crash:
// it prints "<program>: <message>" on stderr and exits with code 2, before anything is trained.
// Exit code 2 always means "did not run": `--help` prints the usage on stdout and exits 2 too (so
// `example --help && next` does not go on as if the example had run), an unknown flag prints the
// usage on stderr and exits 2, never with a stack trace. 0 is a finished run, 1 a failed one.

import { type ParseArgsConfig, parseArgs } from "node:util";

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** The flags every example takes, with the demo's meaning (see lib/backend.ts). */
export const COMMON_FLAGS = {
  model: { type: "string" },
  tokenizer: { type: "string" },
  "data-dir": { type: "string", default: ".tinker-demo" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

const COMMON_HELP: Record<string, string> = {
  model: "base model (default: TINKER_BASE_MODEL, else tinker-local/small on a tinker-local)",
  tokenizer: "directory or tokenizer.json for the model, when tinker-ts cannot resolve its tokenizer",
  "data-dir": "where an in-process tinker-local keeps its data",
  help: "show this help",
};

export interface ExampleCli {
  /** Parses argv with the example's flags plus COMMON_FLAGS; handles --help and unknown flags. */
  parse<const O extends ParseArgsOptionsConfig>(
    options: O,
  ): ReturnType<typeof parseArgs<{ options: O & typeof COMMON_FLAGS; strict: true }>>["values"];
  /** Reports a bad flag and exits with code 2. */
  usage(message: string): never;
  positiveInt(text: string, name: string): number;
  nonNegativeInt(text: string, name: string): number;
}

function usageText(program: string, summary: string, options: ParseArgsOptionsConfig): string {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `--${name}${o.type === "string" ? " <value>" : ""}`;
    const def = o.default !== undefined ? ` (default: ${String(o.default)})` : "";
    return `  ${flag.padEnd(24)} ${COMMON_HELP[name] ?? ""}${def}`.trimEnd();
  });
  return [
    `usage: node --conditions=tinker-source --import tsx examples/${program}.ts [flags]`,
    "",
    summary,
    "",
    "flags:",
    ...rows,
    "",
    "Against a server of your own: TINKER_BASE_URL (and TINKER_API_KEY unless it is a tinker-local).",
    "Exit status: 0 finished, 1 failed, 2 did not run (--help, an unknown flag or a bad value).",
    "",
  ].join("\n");
}

/**
 * The checks for one example, whose messages start with `program`. Declare the result with its
 * type (`const cli: ExampleCli = exampleCli(...)`): only then does TypeScript know that
 * `cli.usage(...)` does not return and narrow types after it.
 */
export function exampleCli(program: string, summary = ""): ExampleCli {
  function usage(message: string): never {
    process.stderr.write(`${program}: ${message}\n(run with --help to see the flags)\n`);
    process.exit(2);
  }
  return {
    parse(options) {
      const all = { ...options, ...COMMON_FLAGS };
      let values: Record<string, unknown>;
      try {
        ({ values } = parseArgs({ options: all, strict: true, allowPositionals: false }));
      } catch (error) {
        // ERR_PARSE_ARGS_UNKNOWN_OPTION, a missing value, a stray positional: all usage errors.
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`${program}: ${message}\n\n${usageText(program, summary, all)}`);
        process.exit(2);
      }
      if (values.help) {
        process.stdout.write(usageText(program, summary, all));
        process.exit(2);
      }
      return values as never;
    },
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
