// The bytes of forward_backward requests and the conversions between wire objects (tinker-ts/wire)
// and the model layer's inputs and outputs.
//
// A forward_backward body is protobuf (`Content-Type: application/x-protobuf`, the 0.25 client) or
// JSON (older clients, or by option), either optionally `Content-Encoding: zstd`. Malformed bodies
// are 400s naming the field; content the models cannot take (image chunks, tokens outside the
// vocabulary, ...) is accepted and fails the request with category "user" when it runs.
import type { FastifyRequest } from "fastify";
import { Decompress as ZstdStream } from "fzstd";
import {
  checkDatum,
  decodeForwardBackwardRequestJson,
  decodeForwardBackwardRequestProto,
  type ForwardBackwardOutput,
  type ForwardBackwardRequest,
  failDecode,
  scanZstdFrames,
  type WireDatum,
  WireDecodeError,
  type WireModelInput,
  type WireTensorData,
} from "tinker-ts/wire";
import { badRequest, HttpError } from "../errors.js";
import { ModelInputError } from "../model/errors.js";
import type { Datum, TensorInput } from "../model/inputs.js";
import type { ForwardBackwardResult } from "../model/lora-model.js";

export const PROTOBUF = "application/x-protobuf";
const JSON_TYPE = "application/json";

export type DecodedForwardBackward = ForwardBackwardRequest & {
  forward_only: boolean;
  /** The body's size as decoded (after zstd), which is what holding the request costs. */
  body_bytes: number;
};

/** A request body's size on the wire: its Content-Length, else the bytes received. */
export function bodyByteCount(request: FastifyRequest): number {
  const declared = Number(headerValue(request, "content-length"));
  if (Number.isSafeInteger(declared) && declared >= 0) return declared;
  return Buffer.isBuffer(request.body) ? request.body.length : 0;
}

function headerValue(request: FastifyRequest, name: string): string {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return (first ?? "").trim().toLowerCase();
}

function mediaType(request: FastifyRequest): string {
  return headerValue(request, "content-type").split(";")[0]?.trim() ?? "";
}

/**
 * The window a zstd frame's header asks the decoder to allocate (RFC 8878 3.1.1.1.2): its content
 * size for a single-segment frame, else what its window descriptor says (up to 2 GiB).
 */
function frameWindowBytes(body: Uint8Array, start: number, contentSize: number | undefined): number {
  const descriptor = body[start + 4] ?? 0;
  if ((descriptor >> 5) & 1) return contentSize ?? 0;
  const wd = body[start + 5] ?? 0;
  const base = 2 ** ((wd >> 3) + 10);
  return base + (base / 8) * (wd & 7);
}

/**
 * Decompresses a zstd body, refusing one that would inflate past `limitBytes` (413) or whose frames
 * hold other than the content size they declare (400). fzstd's one-shot call trusts a declared size
 * (it cuts longer content silently) and allocates a frame's window up front, so each frame is
 * streamed block by block here: output is counted as it comes, and decoding stops at the first
 * block past the declared size or the limit, before more is kept.
 */
export function decompressZstdBody(body: Uint8Array, limitBytes: number): Uint8Array {
  const tooLarge = (bytes: string) =>
    new HttpError(413, `Decompressed body would be ${bytes} bytes, more than the limit of ${limitBytes}`);
  let frames: ReturnType<typeof scanZstdFrames>;
  try {
    frames = scanZstdFrames(body).filter((frame) => !frame.skippable);
  } catch (error) {
    throw badRequest(`Body is not valid zstd: ${(error as Error).message}`);
  }
  let declared = 0;
  for (const frame of frames) {
    declared += frame.contentSize ?? frame.maxContentSize;
    if (frameWindowBytes(body, frame.start, frame.contentSize) > limitBytes) {
      throw tooLarge(`a frame at byte ${frame.start} asks for a window of more than ${limitBytes}`);
    }
  }
  if (declared > limitBytes) throw tooLarge(`up to ${declared}`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const frame of frames) {
    let produced = 0;
    const stream = new ZstdStream((chunk) => {
      produced += chunk.length;
      if (frame.contentSize !== undefined && produced > frame.contentSize) {
        throw badRequest(
          `Body is not valid zstd: the frame at byte ${frame.start} declares ${frame.contentSize} bytes of content but holds more`,
        );
      }
      if (total + produced > limitBytes) throw tooLarge(`more than ${limitBytes}`);
      // The decoder reuses its buffers: keep a copy.
      if (chunk.length > 0) chunks.push(chunk.slice());
    });
    try {
      stream.push(body.subarray(frame.start, frame.end), true);
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw badRequest(`Body is not valid zstd: ${(error as Error).message}`);
    }
    if (frame.contentSize !== undefined && produced !== frame.contentSize) {
      throw badRequest(
        `Body is not valid zstd: the frame at byte ${frame.start} declares ${frame.contentSize} bytes of content but holds ${produced}`,
      );
    }
    total += produced;
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function decodeWire<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof WireDecodeError) throw badRequest(`Invalid ${what} body: ${error.message}`);
    throw error;
  }
}

/** Reads a forward_backward (or legacy forward) request in any accepted encoding. */
export function readForwardBackwardBody(
  request: FastifyRequest,
  limitBytes: number,
  what = "forward_backward",
): DecodedForwardBackward {
  const type = mediaType(request);
  const encoding = headerValue(request, "content-encoding");
  let body: unknown = request.body;
  let bodyBytes = bodyByteCount(request);
  if (encoding !== "" && encoding !== "identity") {
    if (encoding !== "zstd") {
      throw new HttpError(415, `Content-Encoding '${encoding}' is not supported; send zstd or no encoding`);
    }
    if (!Buffer.isBuffer(body) || body.length === 0) throw badRequest("The zstd-encoded body is empty");
    body = decompressZstdBody(body, limitBytes);
    bodyBytes = (body as Uint8Array).length;
    if (type === JSON_TYPE) {
      try {
        body = JSON.parse(Buffer.from(body as Uint8Array).toString("utf8"));
      } catch (error) {
        throw badRequest(`Body is not valid JSON after zstd decompression: ${(error as Error).message}`);
      }
    }
  }
  if (type === PROTOBUF) {
    const bytes = body === undefined ? new Uint8Array(0) : (body as Uint8Array);
    return decodeWire(what, () => {
      const decoded = decodeForwardBackwardRequestProto(bytes);
      // proto3 has no required fields: an empty body decodes to all defaults, and a model id of ""
      // would be looked up (404). Name what is missing instead.
      if (decoded.model_id === "") {
        throw badRequest(
          `Invalid ${what} body: required field 'model_id' (field 1) is missing${bytes.length === 0 ? "; the protobuf body is empty" : ""}`,
        );
      }
      decoded.data.forEach((datum, i) => {
        checkDatum(datum, `data[${i}]`, failDecode);
      });
      return { ...decoded, body_bytes: bodyBytes };
    });
  }
  if (type === JSON_TYPE) {
    if (Buffer.isBuffer(body) || body === undefined) throw badRequest(`The ${what} body is empty`);
    return { ...decodeWire(what, () => decodeForwardBackwardRequestJson(body)), body_bytes: bodyBytes };
  }
  throw new HttpError(
    415,
    `${what} takes Content-Type ${PROTOBUF} or ${JSON_TYPE}, got '${type === "" ? "none" : type}'`,
  );
}

/** The tokens of a model input. Only `encoded_text` chunks exist for tinker-local's text models. */
export function modelInputTokens(input: WireModelInput, where: string): number[] {
  const tokens: number[] = [];
  input.chunks.forEach((chunk, j) => {
    if (chunk.type !== "encoded_text") {
      throw new ModelInputError(
        `${where}.chunks[${j}] is a ${chunk.type} chunk; tinker-local's models are text-only and read encoded_text chunks`,
      );
    }
    for (const token of chunk.tokens) tokens.push(token);
  });
  return tokens;
}

/** A dense TensorInput for the model; sparse CSR tensors are expanded. */
function denseTensor(td: WireTensorData): TensorInput {
  if (td.sparse_crow_indices === undefined || td.sparse_col_indices === undefined) {
    return td.shape === undefined
      ? { dtype: td.dtype, data: td.data }
      : { dtype: td.dtype, shape: td.shape, data: td.data };
  }
  const [rows = 0, cols = 0] = td.shape ?? [];
  const data = new Array<number>(rows * cols).fill(0);
  for (let r = 0; r < rows; r++) {
    const start = td.sparse_crow_indices[r] ?? 0;
    const end = td.sparse_crow_indices[r + 1] ?? start;
    for (let k = start; k < end; k++) {
      data[r * cols + (td.sparse_col_indices[k] ?? 0)] = td.data[k] ?? 0;
    }
  }
  return { dtype: td.dtype, shape: [rows, cols], data };
}

export function toModelDatum(datum: WireDatum, index: number): Datum {
  const lossFnInputs: Record<string, TensorInput> = {};
  for (const [key, td] of Object.entries(datum.loss_fn_inputs)) {
    Object.defineProperty(lossFnInputs, key, { value: denseTensor(td), enumerable: true });
  }
  return { tokens: modelInputTokens(datum.model_input, `data[${index}].model_input`), lossFnInputs };
}

/** The type name clients keep after the last ':' (contract 4.5). */
export const LOSS_FN_OUTPUT_TYPE = "ArrayRecord";

export function toForwardBackwardOutput(result: ForwardBackwardResult): ForwardBackwardOutput {
  for (const key of Object.keys(result.metrics)) {
    // Clients split every key on ':' and fail the whole result otherwise (contract 0.6).
    if (key.split(":").length !== 2) throw new Error(`metric key '${key}' is not 'name:reduction'`);
  }
  return {
    loss_fn_output_type: LOSS_FN_OUTPUT_TYPE,
    loss_fn_outputs: result.lossFnOutputs.map((output) => ({
      logprobs: {
        data: Array.from(output.logprobs.data),
        dtype: "float32",
        shape: [...output.logprobs.shape],
      },
    })),
    metrics: { ...result.metrics },
  };
}
