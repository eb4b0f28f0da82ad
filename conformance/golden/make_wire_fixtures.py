"""Writes packages/tinker/test/fixtures/wire-golden.json from the official Python SDK (0.25.0).

The golden wire fixtures of `packages/tinker/test/wire-golden.test.ts`. Every byte in them comes from
the unmodified official SDK: request bodies from its own send path
(`tinker.proto.request_conv.forward_backward_request_to_proto` + `SerializeToString`, as
`resources/training.py` does), responses built as protobuf messages of its own schema module and
read back by its own reader (`tinker.proto.response_conv`), whose view is stored beside the bytes.
Map entries are written sorted by key (see `serialize`): the test compares bodies up to the order
of map entries, which protobuf leaves open and the SDK itself varies.
The inputs are those of run A in `observed-requests.md` (official_flow.py, CONFORMANCE_TOKENS=wide),
and the script checks its bytes against what that recording says (the 360-byte first body).

  . "$PYSHIM_DIR/env.sh" && /usr/bin/python3 conformance/golden/make_wire_fixtures.py [--check]
  npx biome check --write packages/tinker/test/fixtures/wire-golden.json   (after writing)

`--check` writes nothing and exits 1 when the committed file's JSON differs from what the SDK produces now
(conformance/run.mjs runs it, so the fixtures cannot drift from the official SDK).
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np

from tinker import types
from tinker.proto import tinker_public_pb2 as pb
from tinker.proto.request_conv import forward_backward_request_to_proto
from tinker.proto.response_conv import (
    deserialize_forward_backward_output,
    deserialize_sample_response,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "packages", "tinker", "test", "fixtures", "wire-golden.json")

# Run A's model id was "sess-…:train:0": the recording elides the session id and keeps only the
# body's size. With a 15-character session id the first body is the recorded 360 bytes, so the size
# checks every byte but the id's own length.
MODEL_ID = "sess-3f9c2a1b70:train:0"
RECORDED_FIRST_BODY_BYTES = 360

# official_flow.py's wide token sequences; each datum is next-token prediction with weight 0 on
# the first target (see observed-requests.md sec. 6: tokens [101,2023,...], weights [0,1,1,...]).
SEQS = [[101, 2023, 2003, 1037, 3231, 102, 2017, 2024], [101, 7592, 2088, 999, 1010, 2129, 102]]


def datum_inputs(seqs):
    out = []
    for s in seqs:
        inp, tgt = s[:-1], s[1:]
        w = [0.0] + [1.0] * (len(tgt) - 1)
        out.append(
            {
                "tokens": inp,
                "loss_fn_inputs": {
                    "target_tokens": {"data": tgt, "dtype": "int64", "shape": [len(tgt)]},
                    "weights": {"data": w, "dtype": "float32", "shape": [len(w)]},
                },
            }
        )
    return out


def rl_inputs():
    s = [101, 2023, 2003, 1037, 3231, 102]
    return [
        {
            "tokens": s[:-1],
            "loss_fn_inputs": {
                "target_tokens": {"data": s[1:], "dtype": "int64", "shape": [5]},
                "logprobs": {"data": [-1.5, -2.0, -0.75, -3.0, -1.0], "dtype": "float32", "shape": [5]},
                "advantages": {"data": [1.0, 0.5, -0.25, 0.0, 2.0], "dtype": "float32", "shape": [5]},
            },
        }
    ]


def sdk_request(spec):
    data = [
        types.Datum(
            model_input=types.ModelInput.from_ints(d["tokens"]),
            loss_fn_inputs={
                k: types.TensorData(data=v["data"], dtype=v["dtype"], shape=v["shape"])
                for k, v in d["loss_fn_inputs"].items()
            },
        )
        for d in spec["data"]
    ]
    fb_input = types.ForwardBackwardInput(
        data=data, loss_fn=spec["loss_fn"], loss_fn_config=spec.get("loss_fn_config")
    )
    req = types.ForwardBackwardRequest(
        forward_backward_input=fb_input, model_id=spec["model_id"], seq_id=spec["seq_id"]
    )
    msg = forward_backward_request_to_proto(req)
    msg.forward_only = spec["forward_only"]  # as resources/training.py sets it
    return serialize(msg)


def serialize(msg):
    # The SDK calls SerializeToString(), whose map entries come out in an order that changes from
    # one process to the next (upb's hash seed; protobuf leaves map order unspecified). The
    # deterministic form differs only in that order (entries sorted by key), so the file is stable.
    return msg.SerializeToString(deterministic=True)


REQUESTS = [
    {
        "name": "run A forward_backward (seq 1, cross_entropy, 2 datums)",
        "recorded": "observed-requests.md sec. 3 t=1.92 and sec. 6: protobuf, 360 B",
        "input": {"model_id": MODEL_ID, "seq_id": 1, "loss_fn": "cross_entropy", "forward_only": False,
                  "data": datum_inputs(SEQS)},
    },
    {
        "name": "run A forward (seq 2, forward_only)",
        "recorded": "observed-requests.md sec. 3 t=2.26: TrainingClient.forward() is forward_backward with field 6 set",
        "input": {"model_id": MODEL_ID, "seq_id": 2, "loss_fn": "cross_entropy", "forward_only": True,
                  "data": datum_inputs(SEQS)},
    },
    {
        "name": "importance_sampling with a loss_fn_config",
        "recorded": "not in run A; the same SDK send path with RL inputs and loss_fn_config (sec. 6 schema)",
        "input": {"model_id": MODEL_ID, "seq_id": 4, "loss_fn": "importance_sampling", "forward_only": False,
                  "loss_fn_config": {"clip_low": 0.8}, "data": rl_inputs()},
    },
]


def f32(values):
    return np.asarray(values, dtype=np.float32).tobytes()


def i64(values):
    return np.asarray(values, dtype=np.int64).tobytes()


def i32(values):
    return np.asarray(values, dtype=np.int32).tobytes()


def fb_output_message():
    # Shaped as sec. 6 describes: a module-qualified output type, one ArrayRecord whose fields are
    # the concatenation of the per-datum arrays with int64 byte offsets (num_datums + 1 entries).
    lp = [[-0.5, -1.25, -2.0, -0.125, -3.5, -0.75, -1.0], [-2.5, -0.25, -1.5, -4.0, -0.5, -1.75]]
    el = [[0.0, 1.25, 2.0, 0.125, 3.5, 0.75, 1.0], [0.0, 0.25, 1.5, 4.0, 0.5, 1.75]]
    msg = pb.ForwardBackwardOutput()
    msg.loss_fn_output_type = "tinker.types.array_record:ArrayRecord"
    rec = msg.loss_fn_outputs.add()
    rec.num_datums = 2
    for name, rows in (("logprobs", lp), ("elementwise_loss", el)):
        bt = rec.fields[name]
        bt.data = f32([x for r in rows for x in r])
        bt.offsets = i64([0, 4 * len(rows[0]), 4 * (len(rows[0]) + len(rows[1]))])
        bt.dtype = pb.DTYPE_FLOAT32
    msg.metrics["loss:sum"] = 17.875
    msg.metrics["clip_fraction:mean"] = 0.0
    return msg


def fb_output_two_records():
    # Two ArrayRecord chunks (sec. 6: "one or more"), the second with a trailing dimension.
    msg = pb.ForwardBackwardOutput()
    msg.loss_fn_output_type = "ArrayRecord"
    for rows, trailing in (([[-1.0, -2.0]], []), ([[0.5, 0.25, -0.5, -0.25]], [2])):
        rec = msg.loss_fn_outputs.add()
        rec.num_datums = len(rows)
        bt = rec.fields["logprobs"]
        bt.data = f32([x for r in rows for x in r])
        bt.offsets = i64([0, 4 * len(rows[0])])
        bt.dtype = pb.DTYPE_FLOAT32
        bt.trailing_shape.extend(trailing)
    msg.metrics["loss:sum"] = 3.0
    return msg


def sample_message():
    msg = pb.SampleResponse()
    s1 = msg.sequences.add()
    s1.stop_reason = pb.STOP_REASON_LENGTH
    s1.tokens = i32([2023, 2003, 1037, 3231, 102, 2017])
    s1.logprobs = f32([-0.5, -1.5, -2.25, -0.125, -3.0, -1.0])
    s2 = msg.sequences.add()
    s2.stop_reason = pb.STOP_REASON_STOP
    s2.tokens = i32([7592, 151645])
    s2.logprobs = f32([-0.75, -0.25])
    msg.prompt_cache_hit_tokens = 3
    return msg


def logprobs_message():
    # compute_logprobs(): one 1-token sample with prompt logprobs, NaN on the first prompt token,
    # plus top-k rows (n x k, row-major); the first row is the server's empty cells.
    msg = pb.SampleResponse()
    s = msg.sequences.add()
    s.stop_reason = pb.STOP_REASON_LENGTH
    s.tokens = i32([2017])
    msg.prompt_logprobs = f32([math.nan, -3.5, -0.25, -1.75, -2.0])
    topk = msg.topk_prompt_logprobs
    topk.k = 2
    topk.prompt_length = 5
    topk.token_ids = i32([0, 0, 7592, 2023, 1010, 999, 2088, 2003, 2003, 102])
    topk.logprobs = f32([-99999.0, -99999.0, -3.5, -4.0, -0.25, -2.5, -1.75, -1.875, -2.0, -2.125])
    return msg


def tensor_view(td):
    return {"data": [float(x) if td.dtype == "float32" else int(x) for x in td.data], "dtype": td.dtype,
            "shape": list(td.shape) if td.shape is not None else None}


def fb_view(out):
    return {
        "loss_fn_output_type": out.loss_fn_output_type,
        "metrics": dict(out.metrics),
        "loss_fn_outputs": [{k: tensor_view(v) for k, v in d.items()} for d in out.loss_fn_outputs],
    }


def nullable(values):
    return None if values is None else [None if v is None else float(v) for v in values]


def sample_view(res):
    topk = None
    if res.topk_prompt_logprobs is not None:
        # The SDK's own accessor: per prompt position, a list of (token_id, logprob) pairs.
        topk = [[[int(t), float(lp)] for t, lp in row] if row is not None else None
                for row in res.topk_prompt_logprobs]
    return {
        "sequences": [
            {"stop_reason": s.stop_reason, "tokens": [int(t) for t in s.tokens], "logprobs": nullable(s.logprobs)}
            for s in res.sequences
        ],
        "prompt_logprobs": nullable(res.prompt_logprobs),
        "topk_prompt_logprobs": topk,
        "prompt_cache_hit_tokens": res.prompt_cache_hit_tokens,
    }


def build():
    requests = []
    for r in REQUESTS:
        body = sdk_request(r["input"])
        requests.append({**r, "bytes": len(body), "hex": body.hex()})
    if requests[0]["bytes"] != RECORDED_FIRST_BODY_BYTES:
        sys.exit(f"first body is {requests[0]['bytes']} B, the recording says {RECORDED_FIRST_BODY_BYTES} B")
    fb_outputs = []
    for name, msg in (("one ArrayRecord, two datums, module-qualified type", fb_output_message()),
                      ("two ArrayRecord chunks, one with a trailing dimension", fb_output_two_records())):
        raw = serialize(msg)
        fb_outputs.append({"name": name, "hex": raw.hex(), "sdk_reads": fb_view(deserialize_forward_backward_output(raw))})
    samples = []
    for name, msg in (("sample(): two sequences, stop and length", sample_message()),
                      ("compute_logprobs(): NaN first prompt logprob, top-k rows", logprobs_message())):
        raw = serialize(msg)
        samples.append({"name": name, "hex": raw.hex(), "sdk_reads": sample_view(deserialize_sample_response(raw))})
    return {
        "_about": "Generated by conformance/golden/make_wire_fixtures.py from the official Python SDK "
                  "(tinker 0.25.0); do not edit by hand. Inputs follow run A of observed-requests.md.",
        "forward_backward_requests": requests,
        "forward_backward_outputs": fb_outputs,
        "sample_responses": samples,
    }


def main():
    data = build()
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        # Compared as JSON values, not text: the repository's formatter lays the file out its own way.
        with open(OUT, encoding="utf8") as f:
            if json.load(f) != json.loads(text):
                sys.exit(f"{OUT} differs from what the official SDK produces now; rerun without --check")
        print("wire fixtures: the committed file equals the official SDK's output")
        return
    with open(OUT, "w", encoding="utf8") as f:
        f.write(text)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
