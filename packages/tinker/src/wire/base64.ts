// Standard base64 (RFC 4648, with padding) without Buffer, so the SDK runs unchanged on Bun, Deno
// and browsers. Decoding accepts a missing final padding but nothing outside the alphabet.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** Standard base64 (with padding, no line breaks) of `bytes`; the same in Node and browsers. */
export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  let line = "";
  const full = bytes.length - (bytes.length % 3);
  for (let i = 0; i < full; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    line +=
      ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
    // Flushing bounds the size of intermediate strings on large payloads.
    if (line.length >= 8192) {
      parts.push(line);
      line = "";
    }
  }
  const rest = bytes.length - full;
  if (rest === 1) {
    const n = bytes[full]! << 16;
    line += `${ALPHABET[(n >> 18) & 63]!}${ALPHABET[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[full]! << 16) | (bytes[full + 1]! << 8);
    line += `${ALPHABET[(n >> 18) & 63]!}${ALPHABET[(n >> 12) & 63]!}${ALPHABET[(n >> 6) & 63]!}=`;
  }
  parts.push(line);
  return parts.join("");
}

/** Number of bytes a base64 string decodes to, without decoding it (for size estimates). */
export function base64DecodedLength(text: string): number {
  let len = text.length;
  while (len > 0 && text.charCodeAt(len - 1) === 61 /* = */) len--;
  return Math.floor((len * 3) / 4);
}

/** Returns undefined when `text` is not valid base64, so callers can raise their own error type. */
export function base64Decode(text: string): Uint8Array | undefined {
  let len = text.length;
  if (len % 4 === 0 && len > 0) {
    if (text.charCodeAt(len - 1) === 61) len--;
    if (text.charCodeAt(len - 1) === 61) len--;
  }
  if (len % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
