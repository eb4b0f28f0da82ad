// A one-line progress display on stderr, only when stderr is a terminal (a pipe or a log file gets
// nothing: no carriage returns in captured output).

import type { DownloadProgress } from "../download/download.js";
import { formatBytes } from "./common.js";

export interface ProgressLine {
  update(progress: DownloadProgress): void;
  done(): void;
}

const NONE: ProgressLine = { update() {}, done() {} };

export function progressLine(label: string, intervalMs = 100): ProgressLine {
  if (!process.stderr.isTTY) return NONE;
  let last = 0;
  let shown = false;
  const render = (p: DownloadProgress) => {
    const total = p.totalBytes;
    const pct = total ? ` (${Math.floor((100 * p.receivedBytes) / total)}%)` : "";
    const of = total !== undefined ? ` / ${formatBytes(total)}` : "";
    process.stderr.write(`\r${label} ${formatBytes(p.receivedBytes)}${of}${pct}\u001b[K`);
    shown = true;
  };
  return {
    update(p) {
      const now = Date.now();
      if (now - last < intervalMs && p.receivedBytes !== p.totalBytes) return;
      last = now;
      render(p);
    },
    done() {
      if (shown) process.stderr.write("\n");
    },
  };
}
