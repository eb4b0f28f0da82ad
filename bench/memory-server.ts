// The server process of the memory benchmark (bench/memory.ts forks it): a tinker-local server on
// 127.0.0.1, port 0, with a temporary data dir, that answers memory questions over the IPC channel.
// Run with --expose-gc so each reading follows a full collection; otherwise heapUsed includes
// whatever garbage happens to be waiting.
import { startServer } from "tinker-local";

export type ParentMessage = { type: "measure" } | { type: "close" };

export type ChildMessage =
  | { type: "ready"; url: string }
  | { type: "memory"; usage: NodeJS.MemoryUsage; maxRssBytes: number; gc: boolean }
  | { type: "closed" };

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

const gc = (globalThis as { gc?: () => void }).gc;
const server = await startServer({ port: 0 });

process.on("message", (message: ParentMessage) => {
  if (message.type === "measure") {
    // Twice: the first collection can leave objects whose finalizers free more on the second.
    gc?.();
    gc?.();
    // resourceUsage().maxRSS is in kilobytes.
    send({
      type: "memory",
      usage: process.memoryUsage(),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      gc: gc !== undefined,
    });
  } else if (message.type === "close") {
    void server.close().then(() => {
      send({ type: "closed" });
      process.disconnect();
    });
  }
});
// Without a parent there is no one to answer; stop instead of serving forever.
process.on("disconnect", () => void server.close());

send({ type: "ready", url: server.url });
