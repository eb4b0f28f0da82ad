import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  Datum,
  decodeForwardBackwardOutputJson,
  decodeForwardBackwardOutputProto,
  decodeForwardBackwardRequestJson,
  decodeForwardBackwardRequestProto,
  decodeSampleResponseJson,
  decodeSampleResponseProto,
  encodeForwardBackwardOutputJson,
  encodeForwardBackwardOutputProto,
  encodeForwardBackwardRequestJson,
  encodeForwardBackwardRequestProto,
  encodeSampleResponseJson,
  encodeSampleResponseProto,
  type ForwardBackwardOutput,
  type ForwardBackwardRequest,
  ModelInput,
  type SampleResponse,
  WireDecodeError,
} from "tinker-ts/wire";
import { ValidationError } from "../src/client/errors.js";

/** What a body looks like after the trip through HTTP. */
const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

function decodeFails(fn: () => unknown, path: string, fragment: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WireDecodeError, String(err));
    assert.equal(err.path, path);
    assert.ok(err.message.includes(fragment), err.message);
    return true;
  });
}

const request: ForwardBackwardRequest = {
  model_id: "s:train:0",
  seq_id: 4,
  data: [
    Datum.forNextTokenPrediction([5, 6, 7]).toWire(),
    Datum.create({
      modelInput: ModelInput.fromInts([1]).appendImage({
        data: new Uint8Array([1, 2]),
        format: "png",
        expectedTokens: 1,
      }),
      lossFnInputs: { target_tokens: [2, 3], weights: [1, 0] },
    }).toWire(),
  ],
  loss_fn: "importance_sampling",
  loss_fn_config: { beta: 0.05 },
};

describe("ForwardBackwardRequest JSON", () => {
  it("writes the pre-0.25 body and reads it back", () => {
    const body = overTheWire(encodeForwardBackwardRequestJson(request)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ["forward_backward_input", "model_id", "seq_id"]);
    assert.deepEqual(Object.keys(body.forward_backward_input as object).sort(), [
      "data",
      "loss_fn",
      "loss_fn_config",
    ]);
    assert.deepEqual(decodeForwardBackwardRequestJson(body), { ...request, forward_only: false });
  });

  it("marks forward-only at the top level and accepts the legacy forward body", () => {
    const body = overTheWire(encodeForwardBackwardRequestJson({ ...request, forward_only: true })) as Record<
      string,
      unknown
    >;
    assert.equal(body.forward_only, true);
    assert.equal(decodeForwardBackwardRequestJson(body).forward_only, true);
    const legacy = { forward_input: body.forward_backward_input, model_id: "m", seq_id: 1 };
    const decoded = decodeForwardBackwardRequestJson(legacy);
    assert.equal(decoded.forward_only, true);
    assert.deepEqual(decoded.data, request.data);
  });

  it("agrees with the protobuf form", () => {
    const viaJson = decodeForwardBackwardRequestJson(overTheWire(encodeForwardBackwardRequestJson(request)));
    const viaProto = decodeForwardBackwardRequestProto(encodeForwardBackwardRequestProto(request));
    assert.deepEqual(viaJson, { ...viaProto, loss_fn_config: viaProto.loss_fn_config });
  });

  it("allows image asset pointers in JSON only", () => {
    const pointer = ModelInput.empty().appendImageAssetPointer({ location: "/a.png", format: "png" });
    const req: ForwardBackwardRequest = {
      ...request,
      data: [{ model_input: pointer.toWire(), loss_fn_inputs: {} }],
    };
    assert.deepEqual(
      decodeForwardBackwardRequestJson(overTheWire(encodeForwardBackwardRequestJson(req))).data,
      req.data,
    );
  });

  it("rejects bad bodies with the offending path", () => {
    decodeFails(() => decodeForwardBackwardRequestJson([]), "body", "expected a JSON object");
    decodeFails(
      () =>
        decodeForwardBackwardRequestJson({
          forward_backward_input: { data: [], loss_fn: "ppo" },
          model_id: "m",
          seq_id: -1,
        }),
      "seq_id",
      "non-negative int32",
    );
    decodeFails(
      () =>
        decodeForwardBackwardRequestJson({
          forward_backward_input: {
            data: [{ model_input: { chunks: [{ type: "video" }] }, loss_fn_inputs: {} }],
            loss_fn: "ppo",
          },
          model_id: "m",
          seq_id: 1,
        }),
      "forward_backward_input.data[0].model_input.chunks[0].type",
      "unknown chunk type",
    );
    decodeFails(
      () =>
        decodeForwardBackwardRequestJson({
          forward_backward_input: {
            data: [
              { model_input: { chunks: [] }, loss_fn_inputs: { w: { data: [1, "x"], dtype: "float32" } } },
            ],
            loss_fn: "ppo",
          },
          model_id: "m",
          seq_id: 1,
        }),
      "forward_backward_input.data[0].loss_fn_inputs.w.data[1]",
      "not a finite number",
    );
  });

  it("refuses to encode non-finite config values", () => {
    assert.throws(
      () =>
        encodeForwardBackwardRequestJson({ ...request, loss_fn_config: { beta: Number.POSITIVE_INFINITY } }),
      (err: unknown) => err instanceof ValidationError && err.field === "loss_fn_config.beta",
    );
  });
});

const output: ForwardBackwardOutput = {
  loss_fn_output_type: "ArrayRecord",
  loss_fn_outputs: [
    { logprobs: { data: [-1.5, -0.25], dtype: "float32", shape: [2] } },
    { logprobs: { data: [-3], dtype: "float32", shape: [1] } },
  ],
  metrics: { "loss:sum": 4.75, "tokens:sum": 3 },
};

describe("ForwardBackwardOutput JSON", () => {
  it("round-trips and agrees with the protobuf form", () => {
    const viaJson = decodeForwardBackwardOutputJson(overTheWire(encodeForwardBackwardOutputJson(output)));
    assert.deepEqual(viaJson, output);
    assert.deepEqual(decodeForwardBackwardOutputProto(encodeForwardBackwardOutputProto(output)), viaJson);
  });

  it("forbids extra TensorData fields and non-finite values", () => {
    const body = overTheWire(output) as { loss_fn_outputs: Record<string, Record<string, unknown>>[] };
    body.loss_fn_outputs[0]!.logprobs!.device = "cpu";
    decodeFails(
      () => decodeForwardBackwardOutputJson(body),
      "loss_fn_outputs[0].logprobs.device",
      'unexpected field "device"',
    );
    assert.throws(
      () =>
        encodeForwardBackwardOutputJson({
          ...output,
          loss_fn_outputs: [{ logprobs: { data: [Number.NEGATIVE_INFINITY], dtype: "float32" } }],
        }),
      (err: unknown) =>
        err instanceof ValidationError && err.message.includes("NaN and Infinity cannot be sent"),
    );
  });

  it("requires metrics to be numbers", () => {
    decodeFails(
      () => decodeForwardBackwardOutputJson({ ...output, metrics: { "loss:sum": "1" } }),
      "metrics.loss:sum",
      "finite number",
    );
  });
});

const sample: SampleResponse = {
  sequences: [
    { stop_reason: "stop", tokens: [1, 2], logprobs: [-0.5, -0.75] },
    { stop_reason: "length", tokens: [] },
  ],
  prompt_logprobs: [null, -2.5],
  topk_prompt_logprobs: [null, [[3, -0.5]]],
  prompt_cache_hit_tokens: 2,
};

describe("SampleResponse JSON", () => {
  it('writes type "sample", NaN as null, and agrees with the protobuf form', () => {
    const body = overTheWire(
      encodeSampleResponseJson({ ...sample, prompt_logprobs: [Number.NaN, -2.5] }),
    ) as Record<string, unknown>;
    assert.equal(body.type, "sample");
    assert.deepEqual(body.prompt_logprobs, [null, -2.5]);
    assert.deepEqual(decodeSampleResponseJson(body), sample);
    assert.deepEqual(decodeSampleResponseProto(encodeSampleResponseProto(sample)), sample);
  });

  it("defaults prompt_cache_hit_tokens and checks literals", () => {
    assert.equal(decodeSampleResponseJson({ sequences: [] }).prompt_cache_hit_tokens, 0);
    decodeFails(
      () => decodeSampleResponseJson({ type: "forward", sequences: [] }),
      "type",
      'expected "sample"',
    );
    decodeFails(
      () => decodeSampleResponseJson({ sequences: [{ stop_reason: "eos", tokens: [] }] }),
      "sequences[0].stop_reason",
      '"stop" or "length"',
    );
    decodeFails(
      () => decodeSampleResponseJson({ sequences: [], topk_prompt_logprobs: [[[1]]] }),
      "topk_prompt_logprobs[0][0]",
      "[token_id, logprob] pair",
    );
  });

  it("round-trips any response", () => {
    // JSON writes -0 as 0, so the generator does not produce it.
    const float = fc
      .float({ noNaN: true, noDefaultInfinity: true })
      .map((x) => (x === 0 ? 0 : Math.fround(x)));
    fc.assert(
      fc.property(
        fc.array(fc.option(float, { nil: null }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 8 }),
        (prompt, tokens) => {
          const res: SampleResponse = {
            sequences: [{ stop_reason: "stop", tokens }],
            prompt_logprobs: prompt,
            prompt_cache_hit_tokens: 0,
          };
          assert.deepEqual(decodeSampleResponseJson(overTheWire(encodeSampleResponseJson(res))), res);
        },
      ),
    );
  });
});
