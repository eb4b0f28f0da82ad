// The one-line progress display of a loop: rewritten in place on a terminal, silent otherwise
// (logs and pipes get the metrics file instead of carriage returns).

/** Where progress goes; `process.stderr` by default. */
export interface ProgressSink {
  /** Whether it is a terminal. */
  isTTY?: boolean;
  /** Writes text. */
  write(text: string): unknown;
}

/** Shows `step/total` and metrics on one line of a terminal. */
export class ProgressLine {
  readonly #sink: ProgressSink;
  #shown = false;

  /** Progress on `sink` (default stderr); nothing is written unless it is a TTY. */
  constructor(sink: ProgressSink = process.stderr) {
    this.#sink = sink;
  }

  /** Replaces the line with `label step/total key value ...`. */
  update(label: string, step: number, total: number, values: Record<string, number | undefined>): void {
    if (!this.#sink.isTTY) return;
    const parts = Object.entries(values)
      .filter(([, v]) => v !== undefined && Number.isFinite(v))
      .map(([k, v]) => `${k} ${(v as number).toPrecision(4)}`);
    this.#sink.write(`\r\x1b[2K${label} ${step}/${total} ${parts.join("  ")}`);
    this.#shown = true;
  }

  /** Ends the line. */
  done(): void {
    if (this.#shown) this.#sink.write("\n");
    this.#shown = false;
  }
}
