// Which Hugging Face token and Hub address `tinker checkpoint push-hf` uses, resolved and checked
// before anything is sent. The order follows the huggingface_hub library the Python CLI relies on:
// the --hf-token flag, then HF_TOKEN, then the token file `hf auth login` writes (HF_TOKEN_PATH, or
// HF_HOME/token, or ~/.cache/huggingface/token). HF_ENDPOINT moves the Hub (a mirror, or a local
// double in tests), as it does for huggingface_hub.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { TinkerError, ValidationError } from "../../client/errors.js";

/** The Hub when HF_ENDPOINT is unset. */
export const DEFAULT_HUB_URL = "https://huggingface.co";

/** No Hugging Face token could be found, or the Hub refused it (exit 3, like a refused API key). */
export class HubAuthError extends TinkerError {
  override name = "HubAuthError";
}

/** A Hugging Face token and where it came from, in words for messages (never the token itself). */
export interface HubToken {
  /** The token (a secret: register it with redact before any output). */
  token: string;
  /** "the --hf-token flag", "the HF_TOKEN environment variable", or the token file's path. */
  source: string;
}

/** Where `hf auth login` keeps the token, as huggingface_hub looks for it. */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_TOKEN_PATH) return env.HF_TOKEN_PATH;
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "huggingface");
  return join(home, "token");
}

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The token to use: the flag, HF_TOKEN, or the login token file. HubAuthError when there is none,
 * or when it is not shaped like a Hugging Face token (`hf_...`; the Hub client refuses others too).
 */
export function resolveHubToken(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): HubToken {
  const file = tokenFilePath(env);
  const found: HubToken | undefined = flag
    ? { token: flag, source: "the --hf-token flag" }
    : env.HF_TOKEN
      ? { token: env.HF_TOKEN, source: "the HF_TOKEN environment variable" }
      : (() => {
          const token = readTokenFile(file);
          return token ? { token, source: `the token file ${file}` } : undefined;
        })();
  if (found === undefined) {
    throw new HubAuthError(
      `no Hugging Face token: pass --hf-token, set HF_TOKEN, or run 'hf auth login' (which writes ${file}). ` +
        "The token needs write access to the target repo.",
    );
  }
  const token = found.token.trim();
  if (!/^hf_[A-Za-z0-9]+$/.test(token)) {
    throw new HubAuthError(
      `the Hugging Face token from ${found.source} is not a Hugging Face access token ` +
        "(they start with 'hf_' followed by letters and digits); create one at https://huggingface.co/settings/tokens",
    );
  }
  return { token, source: found.source };
}

/** The Hub's base URL from HF_ENDPOINT (default huggingface.co), without a trailing slash. */
export function hubUrl(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.HF_ENDPOINT?.trim();
  if (!raw) return DEFAULT_HUB_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`HF_ENDPOINT is not a URL: '${raw}'`, "HF_ENDPOINT");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ValidationError(`HF_ENDPOINT must be an http(s) URL, got '${raw}'`, "HF_ENDPOINT");
  }
  return raw.replace(/\/+$/, "");
}
