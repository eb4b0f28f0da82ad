// The one function that keeps credentials out of logs, error messages and CLI output.
// Known secrets (the API key and JWTs this process holds) are registered when they are loaded and
// replaced verbatim; anything shaped like a Tinker key, a JWT or a Hugging Face token is masked too, so a credential that
// reached a message some other way (a server echoing it back, say) is still not printed.

const registered = new Set<string>();

/** Remember a secret so `redact` removes it wherever it appears. Short strings are ignored. */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 8) registered.add(secret);
}

const KEY_PATTERN = /tml-[A-Za-z0-9_-]{4,}/g;
// Hugging Face access tokens (`tinker checkpoint push-hf` holds one).
const HF_TOKEN_PATTERN = /hf_[A-Za-z0-9]{16,}/g;
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/g;

export function redact(text: string): string {
  let out = text;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
  }
  return out
    .replace(KEY_PATTERN, "tml-[REDACTED]")
    .replace(JWT_PATTERN, "[REDACTED_JWT]")
    .replace(HF_TOKEN_PATTERN, "hf_[REDACTED]");
}
