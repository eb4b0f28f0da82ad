// `tinker-ts/wire`: wire types, builders, codecs, chunking, metric merging and zstd. tinker-local
// imports the codecs from here, so both sides of the wire share one implementation.

export { base64Decode, base64Encode } from "./base64.js";
export {
  type ChunkLimits,
  chunkForwardBackwardData,
  DEFAULT_FWDBWD_MAX_CHUNK_BYTES,
  DEFAULT_FWDBWD_MAX_CHUNK_LEN,
  estimateDatumBytes,
} from "./chunking.js";
export {
  Datum,
  type DatumInit,
  LOSS_INPUT_DTYPES,
  type LossFnInputValue,
  SPARSE_ELIGIBLE_LOSS_INPUTS,
} from "./datum.js";
export { WireDecodeError } from "./errors.js";
/**
 * The protobuf messages of contract 4.17 as protoc-gen-es generates them (schemas and types), for
 * code that reads or writes the binary bodies itself; the codecs below use them.
 */
export * as pb from "./gen/tinker_public_pb.js";
export {
  decodeForwardBackwardOutputJson,
  decodeForwardBackwardRequestJson,
  decodeSampleResponseJson,
  encodeForwardBackwardOutputJson,
  encodeForwardBackwardRequestJson,
  encodeSampleResponseJson,
  type ForwardBackwardRequestJsonBody,
} from "./json-codec.js";
export {
  type ChunkMetrics,
  combineHashUnordered,
  METRIC_REDUCTIONS,
  type MetricReduction,
  mergeForwardBackwardOutputs,
  parseMetricKey,
  reduceMetrics,
} from "./metrics.js";
export {
  type ImageAssetPointerInit,
  type ImageInit,
  ModelInput,
  type TokenInput,
} from "./model-input.js";
export {
  decodeForwardBackwardOutputProto,
  decodeSampleResponseProto,
  encodeForwardBackwardRequestProto,
  normalizeOutputType,
  TOPK_EMPTY_LOGPROB,
} from "./proto-codec.js";
export {
  decodeForwardBackwardRequestProto,
  encodeForwardBackwardOutputProto,
  encodeSampleResponseProto,
} from "./proto-server-codec.js";
export {
  type CsrInit,
  csrIsSmaller,
  type NestedNumbers,
  TensorData,
  type TensorDataOptions,
  type TensorInput,
  type TypedNumberArray,
} from "./tensor-data.js";
export * from "./types.js";
export {
  ALIGNED_LOSS_INPUTS,
  checkDatum,
  checkForwardBackwardInput,
  checkModelInput,
  checkTensorData,
  failDecode,
  failValidation,
  modelInputLength,
  REQUIRED_LOSS_INPUTS,
} from "./validate.js";
export {
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_ZSTD_LEVEL,
  scanZstdFrames,
  type ZstdFrameInfo,
  zstdCompress,
  zstdDecompress,
} from "./zstd.js";
