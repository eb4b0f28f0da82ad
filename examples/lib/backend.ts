// Where the examples train. With TINKER_BASE_URL and TINKER_API_KEY set, that server; otherwise
// tinker-local, started inside the example's own process, so no account and no network are needed.

import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { ServiceClient } from "tinker-ts";
import type { ExampleCli } from "./args.js";

export interface Backend {
  service: ServiceClient;
  /** The base model to train. */
  model: string;
  /** Closes the client, then the in-process server if there is one. */
  close(): Promise<void>;
}

/** The flags every example takes: where an in-process tinker-local keeps its data, and the model. */
export interface BackendFlags {
  "data-dir": string;
  /** Else TINKER_BASE_MODEL; else, with tinker-local only, `tinker-local/small`. */
  model?: string | undefined;
}

/** Starts tinker-local unless a hosted server is configured; a missing model there is a usage error. */
export async function openBackend(flags: BackendFlags, cli: Pick<ExampleCli, "usage">): Promise<Backend> {
  const hosted = Boolean(process.env.TINKER_BASE_URL && process.env.TINKER_API_KEY);
  let baseUrl = process.env.TINKER_BASE_URL;
  let apiKey = process.env.TINKER_API_KEY;
  let stopServer: (() => Promise<void>) | undefined;
  if (!hosted) {
    // Imported only here: against the hosted service the examples need nothing from tinker-local.
    const { startServer, DEFAULT_LOCAL_API_KEY } = await import("tinker-local");
    const dataDir = resolve(flags["data-dir"]);
    mkdirSync(dataDir, { recursive: true });
    const server = await startServer({ port: 0, dataDir });
    baseUrl = server.url;
    apiKey = DEFAULT_LOCAL_API_KEY;
    stopServer = () => server.close();
    console.log(`tinker-local started in this process, data in ${dataDir}`);
  }
  // A hosted service names its models differently: there the user has to pick one.
  const model = flags.model ?? process.env.TINKER_BASE_MODEL ?? (hosted ? undefined : "tinker-local/small");
  if (!model) cli.usage("against a hosted server, name the base model with --model or TINKER_BASE_MODEL");

  const service = new ServiceClient({ baseUrl, apiKey });
  return {
    service,
    model,
    close: async () => {
      await service.close();
      await stopServer?.();
    },
  };
}
