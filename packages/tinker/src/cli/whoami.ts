// `tinker whoami`: who the credential belongs to (contract 3.12), from the JWT the client holds.
// The Python SDK has the call (`api.whoami()`, used by `checkpoint push-hf`) but no command for it.

import type { Command } from "commander";
import { type CommonOptions, out, outputFormat, printJson, withClient, withCommonOptions } from "./common.js";
import { keyValueTable } from "./render.js";

export function register(program: Command): void {
  withCommonOptions(
    program.command("whoami").description("Show the user the credential belongs to (needs JWT auth)"),
  ).action(async (opts: CommonOptions) => {
    const identity = await withClient(opts, (client) => client.whoami());
    if (outputFormat(opts) === "json") printJson({ user_urn: identity.userUrn, email: identity.email });
    else
      out(
        keyValueTable([
          ["User", identity.userUrn],
          ["Email", identity.email ?? "-"],
        ]),
      );
  });
}
