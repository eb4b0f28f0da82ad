// A leaf every layer may import: the diagnostics logger (start-up notes, internal errors).

/** Non-request diagnostics (start-up notes, internal errors). Request lines go through the request log. */
export interface LocalLogger {
  /** Notes on what the server did on its own (e.g. an expired session's models dropped from memory). */
  info(message: string): void;
  /**
   * Something a person may want to know about that does not stop the server (e.g. the default key
   * is in use).
   */
  warn(message: string): void;
  /** An internal error (a failed worker, background work that threw). */
  error(message: string): void;
}

/** A logger that drops everything: the default of `startServer`. */
export const silentLogger: LocalLogger = { info() {}, warn() {}, error() {} };
