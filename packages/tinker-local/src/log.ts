// A leaf every layer may import: the diagnostics logger (start-up notes, internal errors).

/** Non-request diagnostics (start-up notes, internal errors). Request lines go through the request log. */
export interface LocalLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: LocalLogger = { info() {}, warn() {}, error() {} };
