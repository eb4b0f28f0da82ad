#!/usr/bin/env node
// The `tinker` command line. Each command lives in its own file and exports `register(program)`;
// adding a command means adding a file and one line to COMMANDS. Exit codes (cli/exit-codes.ts,
// docs/rest-and-cli.md): 0 success, 1 other failure, 2 usage/validation, 3 auth, 4 not found,
// 5 conflict, 6 connection/timeout/server error.

import { Command, CommanderError } from "commander";
import { ValidationError } from "../client/errors.js";
import { redact } from "../client/redact.js";
import { SDK_VERSION } from "../client/version.js";
import * as billing from "./billing.js";
import * as checkpoint from "./checkpoint.js";
import { type CommonOptions, mergeGlobalOptions, withCommonOptions } from "./common.js";
import { exitCodeFor } from "./exit-codes.js";
import { describeFailure } from "./messages.js";
import * as probe from "./probe.js";
import * as run from "./run.js";
import * as session from "./session.js";
import * as version from "./version.js";
import * as whoami from "./whoami.js";

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

interface CliCommand {
  register(program: Command): void;
}

const COMMANDS: CliCommand[] = [probe, version, whoami, run, checkpoint, session, billing];

function buildProgram(): { program: Command; options: () => CommonOptions } {
  let running: Command | undefined;
  const program = withCommonOptions(
    new Command("tinker")
      .description("Command line for the Tinker fine-tuning API")
      .version(SDK_VERSION, "-V, --version")
      .exitOverride()
      .configureOutput({ outputError: (text, write) => write(redact(text)) }),
  );
  for (const command of COMMANDS) command.register(program);
  // Global options may come before the command name; hand them to the command that runs.
  program.hook("preAction", (_program, actionCommand) => {
    mergeGlobalOptions(actionCommand);
    running = actionCommand;
  });
  return { program, options: () => (running ?? program).opts<CommonOptions>() };
}

async function main(argv: string[] = process.argv): Promise<number> {
  const { program, options } = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    process.stderr.write(`tinker: ${describeFailure(error, options())}\n`);
    if (error instanceof ValidationError) return EXIT_USAGE;
    return exitCodeFor(error) || EXIT_FAILURE;
  }
}

const code = await main();
process.exitCode = code;
