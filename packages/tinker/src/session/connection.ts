// Start-up steps 1-3 (contract 2.1): client/config with the raw credential, the JWT exchange when
// the server asks for it, then client/dynamic_config. The result is an authenticated HTTP client.
// A session holder does this and then creates a session; the session-less holder (REST calls,
// capabilities) stops here.

import { fetchAuthToken } from "../api/service.js";
import {
  ApiKeyAuth,
  type AuthProvider,
  CredentialCommandAuth,
  JwtAuth,
  runCredentialCommand,
} from "../client/auth.js";
import { ValidationError } from "../client/errors.js";
import { HttpClient } from "../client/http.js";
import type { ResolvedOptions } from "../client/options.js";
import { SDK_VERSION } from "../client/version.js";
import {
  type ClientConfig,
  type DynamicConfig,
  loadClientConfig,
  loadDynamicConfig,
} from "./client-config.js";

export interface Connection {
  config: ClientConfig;
  dynamicConfig: DynamicConfig;
  /** Authenticated with the API key, or with a refreshed JWT in JWT mode. */
  http: HttpClient;
  /** Present in JWT mode. */
  jwt: JwtAuth | undefined;
  close(): void;
}

/** Test seams for the HTTP core; production code passes none. */
export interface ConnectionHooks {
  /** Aborts start-up and every later token fetch (the client's lifetime). */
  signal?: AbortSignal;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The credential for the token exchange (contract 1.2 step 1). */
export function exchangeCredential(options: ResolvedOptions, config: ClientConfig): AuthProvider {
  const { apiKey, credentialCmd } = options;
  if (apiKey?.startsWith("eyJ")) return new ApiKeyAuth(apiKey);
  if (config.credentialDefaultSource === "credential_cmd") {
    if (!credentialCmd) {
      throw new ValidationError(
        "This server takes its credential from a command: set TINKER_CREDENTIAL_CMD (or the credentialCmd option).",
        "credentialCmd",
      );
    }
    return new CredentialCommandAuth(credentialCmd);
  }
  if (apiKey) return new ApiKeyAuth(apiKey);
  return new CredentialCommandAuth(credentialCmd as string);
}

export async function connect(options: ResolvedOptions, hooks: ConnectionHooks = {}): Promise<Connection> {
  // Without a key the command is run once here; plain mode keeps using that credential.
  const raw = new ApiKeyAuth(options.apiKey ?? (await runCredentialCommand(options.credentialCmd as string)));
  const base = new HttpClient({
    baseUrl: options.baseUrl,
    auth: raw,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.transport ? { transport: options.transport } : {}),
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    defaultHeaders: options.defaultHeaders,
    logger: options.logger,
    clock: options.clock,
    ...(hooks.random ? { random: hooks.random } : {}),
    ...(hooks.sleep ? { sleep: hooks.sleep } : {}),
  });

  const signal = hooks.signal;
  const config = await loadClientConfig(base, SDK_VERSION, { signal });

  let http = base;
  let jwt: JwtAuth | undefined;
  if (config.pjwtAuthEnabled) {
    const tokenHttp = base.withAuth(exchangeCredential(options, config));
    jwt = new JwtAuth({
      fetchToken: () => fetchAuthToken(tokenHttp, { signal }),
      clock: options.clock,
      logger: options.logger,
    });
    await jwt.start();
    http = base.withAuth(jwt);
  }

  try {
    const dynamicConfig = await loadDynamicConfig(http, SDK_VERSION, { signal });
    return {
      config,
      dynamicConfig,
      http,
      jwt,
      close: () => jwt?.close(),
    };
  } catch (error) {
    jwt?.close();
    throw error;
  }
}
