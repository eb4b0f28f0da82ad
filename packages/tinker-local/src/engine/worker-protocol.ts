// The messages between the main thread and a model worker (model-worker.ts). Everything in them is
// structured-cloneable: plain objects, typed arrays, bigint seeds. Models live in a worker under a
// handle chosen by the main thread; a handle never moves between workers.
import type { AdamParams } from "../model/adam.js";
import type { PeftAdapterConfig } from "../model/checkpoint.js";
import type { Datum } from "../model/inputs.js";
import type { ResolvedLoraConfig } from "../model/lora.js";
import type { ForwardBackwardResult, OptimStepResult } from "../model/lora-model.js";
import type { SampledSequence, SamplingParams } from "../model/sampling.js";

export type ModelOp =
  | { op: "create"; baseModel: string; lora: ResolvedLoraConfig | null }
  | { op: "createFromCheckpoint"; weights: Uint8Array; optimizer: Uint8Array | null }
  | { op: "load"; weights: Uint8Array; optimizer: Uint8Array | null }
  | {
      op: "forwardBackward";
      data: Datum[];
      lossFn: string;
      lossFnConfig: Record<string, number> | null;
      forwardOnly: boolean;
    }
  | { op: "optimStep"; adam: AdamParams | null }
  | {
      op: "sample";
      tokens: number[];
      params: SamplingParams;
      numSamples: number;
      promptLogprobs: boolean;
      topk: number;
    }
  | { op: "save"; optimizer: boolean }
  | { op: "dispose" };

/** What each op answers. */
export interface ModelOpResults {
  create: { baseModel: string };
  createFromCheckpoint: { baseModel: string };
  load: null;
  forwardBackward: ForwardBackwardResult;
  optimStep: OptimStepResult;
  sample: {
    sequences: SampledSequence[];
    promptLogprobs?: (number | null)[];
    topkPromptLogprobs?: ([number, number][] | null)[];
  };
  save: { weights: Uint8Array; optimizer?: Uint8Array; adapterConfig: PeftAdapterConfig };
  dispose: null;
}

export interface WorkerRequest {
  readonly id: number;
  readonly handle: string;
  readonly body: ModelOp;
  /**
   * Test hook: the worker blocks on this (Atomics.wait until index 0 is non-zero) before it runs
   * the op, so a test can hold a step "in the pool" for as long as it needs, without a clock.
   */
  readonly gate?: Int32Array;
}

/** A thrown error as it crosses the thread boundary; `name` lets the main thread rebuild user errors. */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WorkerError };
