// Where the examples train. With TINKER_BASE_URL set, that server; otherwise tinker-local, started
// inside the example's own process, so no account and no network are needed. Whether a server is
// a tinker-local is asked, not guessed: its capabilities list the tinker-local/* models. Against one
// the defaults (model, key) are tinker-local's; against the hosted service the user names the model.

import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { getTokenizer, ServiceClient, type Tokenizer } from "tinker-ts";
import type { ExampleCli } from "./args.js";

export interface Backend {
  service: ServiceClient;
  /** The base model to train. */
  model: string;
  /** True for a tinker-local (in this process or at TINKER_BASE_URL). */
  local: boolean;
  /** The model's tokenizer, the same way in every example: --tokenizer if given, else resolved. */
  tokenizer(): Promise<Tokenizer>;
  /** Closes the client, then the in-process server if there is one. */
  close(): Promise<void>;
}

/** The flags every example takes (COMMON_FLAGS in lib/args.ts). */
export interface BackendFlags {
  "data-dir": string;
  /** Else TINKER_BASE_MODEL; else, with tinker-local only, `tinker-local/small`. */
  model?: string | undefined;
  /** A tokenizer.json (or its directory) for models tinker-ts has no tokenizer for. */
  tokenizer?: string | undefined;
}

const LOCAL_MODEL_PREFIX = "tinker-local/";

/** True when the server's capabilities list tinker-local's own models. */
export async function isTinkerLocal(service: ServiceClient): Promise<boolean> {
  const caps = await service.getServerCapabilities();
  return caps.supportedModels.some((m) => m.modelName?.startsWith(LOCAL_MODEL_PREFIX));
}

/** Connects as described above; a missing model against a hosted server is a usage error. */
export async function openBackend(flags: BackendFlags, cli: Pick<ExampleCli, "usage">): Promise<Backend> {
  let service: ServiceClient;
  let local: boolean;
  let stopServer: (() => Promise<void>) | undefined;
  const baseUrl = process.env.TINKER_BASE_URL;
  if (baseUrl) {
    // A tinker-local accepts its documented default key; the capabilities call needs some key.
    const apiKey = process.env.TINKER_API_KEY ?? (await import("tinker-local")).DEFAULT_LOCAL_API_KEY;
    service = new ServiceClient({ baseUrl, apiKey });
    local = await isTinkerLocal(service);
    if (!local && !process.env.TINKER_API_KEY) {
      await service.close();
      cli.usage(`${baseUrl} is not a tinker-local: set TINKER_API_KEY to your key for it`);
    }
  } else {
    // Imported only here: against the hosted service the examples need nothing from tinker-local.
    const { startServer, DEFAULT_LOCAL_API_KEY } = await import("tinker-local");
    const dataDir = resolve(flags["data-dir"]);
    mkdirSync(dataDir, { recursive: true });
    const server = await startServer({ port: 0, dataDir });
    stopServer = () => server.close();
    service = new ServiceClient({ baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY });
    local = true;
    console.log(`tinker-local started in this process, data in ${dataDir}`);
  }
  // A hosted service names its models differently: there the user has to pick one.
  const model = flags.model ?? process.env.TINKER_BASE_MODEL ?? (local ? "tinker-local/small" : undefined);
  if (!model) {
    await service.close();
    await stopServer?.();
    cli.usage("against a hosted server, name the base model with --model or TINKER_BASE_MODEL");
  }
  const tokenizerPath = flags.tokenizer;
  return {
    service,
    model,
    local,
    tokenizer: () => getTokenizer(model, tokenizerPath ? { tokenizerPath } : {}),
    close: async () => {
      await service.close();
      await stopServer?.();
    },
  };
}
