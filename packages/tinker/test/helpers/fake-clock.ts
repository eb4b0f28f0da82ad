// A manual clock for unit tests: time moves only when a test calls `advance`, timers fire in order,
// and promise chains started by a timer get to run before the next one fires.

import type { Clock, TimerHandle } from "../../src/client/clock.js";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Lets pending promise callbacks (and the ones they schedule) run. */
  async flush(): Promise<void> {
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await this.flush();
    for (let guard = 0; guard < 100_000; guard++) {
      let next: [number, Timer] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at > target) continue;
        if (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)) {
          next = entry;
        }
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await this.flush();
    }
    this.t = target;
    await this.flush();
  }
}

/** Records every log call, for assertions. */
export function recordingLogger() {
  const lines: {
    level: "debug" | "info" | "warn" | "error";
    message: string;
    fields?: Record<string, unknown>;
  }[] = [];
  const make =
    (level: "debug" | "info" | "warn" | "error") => (message: string, fields?: Record<string, unknown>) => {
      lines.push(fields === undefined ? { level, message } : { level, message, fields });
    };
  return {
    lines,
    logger: { debug: make("debug"), info: make("info"), warn: make("warn"), error: make("error") },
    at(level: "debug" | "info" | "warn" | "error") {
      return lines.filter((l) => l.level === level);
    },
  };
}
