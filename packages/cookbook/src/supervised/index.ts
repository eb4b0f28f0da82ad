// The supervised recipe: conversation files, batching, and the training loop (`supervised.train`).

export {
  type Batch,
  type BatchOptions,
  type BatchSize,
  ConversationBatches,
  type DataPosition,
} from "./batches.js";
export {
  emptyStats,
  messagesOf,
  type RenderedExample,
  type RenderOptions,
  type RenderStats,
  renderConversation,
} from "./conversation-data.js";
export { JsonlFile } from "./jsonl-file.js";
export { permutation } from "./order.js";
export { type SupervisedConfig, type SupervisedMetrics, type SupervisedSummary, train } from "./train.js";
