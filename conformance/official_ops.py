"""The official Python SDK's half of conformance/compare.test.ts.

Runs a fixed list of operations through the unmodified official Tinker SDK against one server and
writes every observable result (losses, logprobs, metrics, sampled tokens, paths) as JSON to
COMPARE_OUT. compare.test.ts runs the same operations through tinker-ts and compares the two
results bit for bit. The operations and their inputs come from COMPARE_PLAN (a JSON file written by
the test), so both sides provably use the same seeds and data.

Floats survive the trip exactly: json.dumps writes the shortest repr that round-trips a float64, and
float32 values widen to float64 without loss.

Environment: TINKER_BASE_URL, TINKER_API_KEY, COMPARE_PLAN, COMPARE_OUT, COMPARE_DONE (a file
the test creates once it needs the session no more); PYTHONPATH must reach the
SDK source and setup.sh's dependencies (the test sources setup.sh's env.sh).
"""

import json
import os
import sys
import time

import tinker
from tinker import types


def datum(spec):
    return types.Datum(
        model_input=types.ModelInput.from_ints(spec["tokens"]),
        loss_fn_inputs={
            name: types.TensorData(data=t["data"], dtype=t["dtype"], shape=[len(t["data"])])
            for name, t in spec["inputs"].items()
        },
    )


def fb_view(out):
    return {
        "metrics": dict(out.metrics),
        "outputs": [
            {name: [float(x) for x in td.tolist()] for name, td in sorted(o.items())}
            for o in out.loss_fn_outputs
        ],
    }


_T0 = time.monotonic()


def note(what):
    print(f"# official_ops: {what} at {time.monotonic() - _T0:.1f} s", flush=True)


def main():
    with open(os.environ["COMPARE_PLAN"]) as f:
        plan = json.load(f)
    service = tinker.ServiceClient()
    training = service.create_lora_training_client(
        plan["base_model"], rank=plan["rank"], seed=plan["seed"]
    )
    note("training client created")
    adam = types.AdamParams(**plan["adam"])
    result = {"steps": []}
    for step in plan["steps"]:
        data = [datum(d) for d in step["data"]]
        fb = training.forward_backward(data, step["loss_fn"]).result()
        opt = training.optim_step(adam).result()
        result["steps"].append({"fb": fb_view(fb), "optim": dict(opt.metrics or {})})

    note("training steps done")
    eval_data = [datum(d) for d in plan["eval"]]
    result["forward"] = fb_view(training.forward(eval_data, "cross_entropy").result())

    state_path = training.save_state(plan["state_name"]).result().path
    sampler_path = training.save_weights_for_sampler(plan["sampler_name"]).result().path
    result["paths"] = {"state": state_path.split("/", 3)[-1], "sampler": sampler_path.split("/", 3)[-1]}

    note("saved")
    sampler = service.create_sampling_client(model_path=sampler_path)
    prompt = types.ModelInput.from_ints(plan["prompt"])
    sp = plan["sampling"]
    params = types.SamplingParams(
        max_tokens=sp["max_tokens"], temperature=sp["temperature"], seed=sp["seed"], top_k=sp["top_k"]
    )
    sampled = sampler.sample(prompt, num_samples=plan["num_samples"], sampling_params=params).result()
    result["samples"] = [
        {
            "tokens": list(s.tokens),
            "logprobs": [float(x) for x in (s.logprobs or [])],
            "stop_reason": str(s.stop_reason),
        }
        for s in sampled.sequences
    ]
    result["logprobs"] = [None if x is None else float(x) for x in sampler.compute_logprobs(prompt).result()]

    note("sampled")
    restored = service.create_training_client_from_state(state_path)
    result["restored_forward"] = fb_view(restored.forward(eval_data, "cross_entropy").result())

    note("restored")
    result["session_id"] = service.holder.get_session_id()
    out = os.environ["COMPARE_OUT"]
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.rename(out + ".tmp", out)  # the test polls for this file: it appears whole
    # Idle while the SDK's own heartbeat keeps the session alive, until the test has read the
    # server's heartbeat records of a window common to both sessions (bounded).
    deadline = time.monotonic() + 180
    while not os.path.exists(os.environ["COMPARE_DONE"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    sys.stdout.flush()
    # The SDK keeps background threads (heartbeat, telemetry); do not wait for them.
    os._exit(0 if os.path.exists(os.environ["COMPARE_DONE"]) else 3)


if __name__ == "__main__":
    main()
