// The SDK's own version. Kept here (not read from package.json) so every runtime can load it without
// JSON import support; a test checks it against package.json. index.ts re-exports it.
/** This SDK's version (the `tinker-ts` package version), sent as `sdk_version` when a session is created. */
export const SDK_VERSION = "0.1.0";

/** Sent as User-Agent on every request. */
export const USER_AGENT = `tinker-ts/${SDK_VERSION}`;
