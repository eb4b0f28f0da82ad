// @ts-check
// The baseline of the transport benchmark: a bare client over node:http with one keep-alive Agent,
// sending what the SDK sends for forward, forward_backward + optim_step and sample (same endpoints,
// bodies, Accept types and headers, protobuf where the SDK uses protobuf) and decoding the results
// with the same codecs, but with nothing else: no retries, timeouts, validation, ordering or
// throttles. The SDK's cost over this is its client overhead. Plain JavaScript so that the client
// processes of the benchmark run on plain node against the built SDK (see transport-child.mjs).
import http from "node:http";
import {
  decodeForwardBackwardOutputProto,
  decodeSampleResponseProto,
  encodeForwardBackwardRequestProto,
} from "tinker-ts/wire";

// tinker-local's default key, written out: importing it from tinker-local would load the whole server
// into the client process and inflate the RSS this benchmark reports.
const API_KEY = "tml-local-dev";
const PROTOBUF = "application/x-protobuf";

/** @typedef {{ status: number, contentType: string, body: Buffer }} Answer */

/** One bare client: its own keep-alive Agent, so its connections are its own. */
export class BareClient {
  /** @param {string} baseUrl */
  constructor(baseUrl) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, noDelay: true });
    this.sampleSeqId = 0;
  }

  close() {
    this.agent.destroy();
  }

  /**
   * @param {string} path
   * @param {string | Uint8Array} body
   * @param {Record<string, string>} headers
   * @returns {Promise<Answer>}
   */
  post(path, body, headers) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          path,
          method: "POST",
          agent: this.agent,
          headers: {
            accept: "application/json",
            "user-agent": "bare",
            "x-tinker-retry-count": "0",
            "x-idempotency-key": `bare-${crypto.randomUUID()}`,
            "content-type": "application/json",
            "x-api-key": API_KEY,
            "content-length": String(Buffer.byteLength(body)),
            ...headers,
          },
        },
        (res) => {
          /** @type {Buffer[]} */
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers["content-type"] ?? ""),
              body: Buffer.concat(chunks),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  /**
   * @param {string} path
   * @param {unknown} body
   * @returns {Promise<any>}
   */
  async json(path, body) {
    const answer = await this.post(path, JSON.stringify(body), {});
    if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}: ${answer.body}`);
    return JSON.parse(answer.body.toString("utf8"));
  }

  /**
   * Long-polls until done: the protobuf bytes when `accept` is protobuf, else the parsed JSON.
   * @param {string} requestId
   * @param {string} type
   * @param {string} accept
   * @returns {Promise<any>}
   */
  async retrieve(requestId, type, accept) {
    for (let iteration = 0; ; iteration++) {
      const answer = await this.post(
        "/api/v1/retrieve_future",
        JSON.stringify({ request_id: requestId, allow_metadata_only: true }),
        { accept, "x-tinker-request-iteration": String(iteration), "x-tinker-request-type": type },
      );
      if (answer.status === 408) continue;
      if (answer.status !== 200) throw new Error(`retrieve_future answered ${answer.status}: ${answer.body}`);
      if (answer.contentType.includes(PROTOBUF)) return answer.body;
      const json = JSON.parse(answer.body.toString("utf8"));
      if (json.type === "try_again") continue;
      if (json.error !== undefined) throw new Error(`request ${requestId} failed: ${json.error}`);
      return json;
    }
  }

  /** @returns {Promise<string>} */
  async createSession() {
    const ack = await this.json("/api/v1/create_session", {
      tags: ["bench"],
      user_metadata: {},
      sdk_version: "0.25.0",
      type: "create_session",
    });
    return ack.session_id;
  }

  /**
   * @param {string} sessionId
   * @param {string} baseModel
   * @param {number} rank
   * @returns {Promise<string>}
   */
  async createModel(sessionId, baseModel, rank) {
    const ack = await this.json("/api/v1/create_model", {
      session_id: sessionId,
      model_seq_id: 0,
      base_model: baseModel,
      lora_config: { rank, seed: 1, train_attn: true, train_mlp: true, train_unembed: true },
      type: "create_model",
    });
    const result = await this.retrieve(ack.request_id, "CreateModel", "application/json");
    return result.model_id;
  }

  /**
   * Submits a forward_backward (or a forward) and returns, once acknowledged, the promise of its
   * decoded output.
   * @param {string} modelId
   * @param {number} seqId
   * @param {import("tinker-ts/wire").WireDatum[]} data
   * @param {boolean} forwardOnly
   */
  async submitForwardBackward(modelId, seqId, data, forwardOnly) {
    const body = encodeForwardBackwardRequestProto({
      model_id: modelId,
      seq_id: seqId,
      data,
      loss_fn: "cross_entropy",
      ...(forwardOnly ? { forward_only: true } : {}),
    });
    const answer = await this.post("/api/v1/forward_backward", body, { "content-type": PROTOBUF });
    if (answer.status !== 200) throw new Error(`forward_backward answered ${answer.status}: ${answer.body}`);
    const { request_id } = JSON.parse(answer.body.toString("utf8"));
    const type = forwardOnly ? "Forward" : "ForwardBackward";
    return { result: this.retrieve(request_id, type, PROTOBUF).then(decodeForwardBackwardOutputProto) };
  }

  /**
   * Submits an optim_step and returns, once acknowledged, the promise of its result.
   * @param {string} modelId
   * @param {number} seqId
   */
  async submitOptimStep(modelId, seqId) {
    const ack = await this.json("/api/v1/optim_step", {
      adam_params: {
        learning_rate: 1e-3,
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-12,
        weight_decay: 0,
        grad_clip_norm: 0,
      },
      model_id: modelId,
      seq_id: seqId,
      type: "optim_step",
    });
    return { result: this.retrieve(ack.request_id, "OptimStep", "application/json") };
  }

  /**
   * @param {string} sessionId
   * @param {string} baseModel
   * @returns {Promise<string>}
   */
  async createSamplingSession(sessionId, baseModel) {
    const ack = await this.json("/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: 0,
      base_model: baseModel,
      type: "create_sampling_session",
    });
    return ack.sampling_session_id;
  }

  /**
   * @param {string} samplingSessionId
   * @param {number[]} tokens
   * @param {number} maxTokens
   * @param {number} seed
   */
  async sample(samplingSessionId, tokens, maxTokens, seed) {
    const answer = await this.post(
      "/api/v1/asample",
      JSON.stringify({
        type: "sample",
        num_samples: 1,
        prompt: { chunks: [{ type: "encoded_text", tokens }] },
        sampling_params: { temperature: 1, top_k: -1, top_p: 1, max_tokens: maxTokens, seed },
        sampling_session_id: samplingSessionId,
        prompt_logprobs: false,
        topk_prompt_logprobs: 0,
        seq_id: ++this.sampleSeqId,
      }),
      { "x-tinker-sampling-backpressure": "1" },
    );
    if (answer.status !== 200) throw new Error(`asample answered ${answer.status}: ${answer.body}`);
    const { request_id } = JSON.parse(answer.body.toString("utf8"));
    return decodeSampleResponseProto(await this.retrieve(request_id, "Sample", PROTOBUF));
  }
}
