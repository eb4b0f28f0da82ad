// The server process of the transport benchmark (bench/transport.ts forks it): tinker-local on
// 127.0.0.1, port 0, in a process of its own, so the client side measured is the client alone.
// It sends its URL over the IPC channel and stops when the parent disconnects.
import { startServer } from "tinker-local";

// No 429 pushback for the burst: the benchmark compares clients, not the server's queue limit (with
// it, every client would mostly measure the contract's 1 s backoff after a 429).
const server = await startServer({ port: 0, maxQueuedWork: 100_000 });
process.send?.({ url: server.url });
process.on("disconnect", () => void server.close());
