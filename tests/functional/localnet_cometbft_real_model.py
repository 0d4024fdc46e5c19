"""`scripts/localnet run --validators 4` (issue 15 item 3, labels cometbft and real_model): the same 3 participants
as `make run` on a 4-validator CometBFT chain (the participants are the operators of validators 0-2, each dapi on
its own validator's RPC) form epoch 1 and serve SmolLM2-135M-Instruct; the official openai client through op1's
dapi gets a correct answer from the real model, and every validator's RPC shows the same finished record with the
tokens the client saw. Ctrl-C's clean stop ends every process with exit code 0.
Skipped, with the reason, when .venv/ or the model file is missing (scripts/setup installs them)."""
import os

import openai

from framework import wait_until
from framework.http import get_json
from framework.localnet import free_port_block, localnet, require_real_model
from framework.process import build_dir

QUESTION = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"}]


def test_four_validators_serve_the_real_model(workdir):
    require_real_model()
    net = localnet.Localnet(os.path.join(workdir, "localnet"), build_dir(), validators=4,
                            base_port=free_port_block(60), chain_base_port=free_port_block(40), block_time_ms=400)
    try:
        net.start()
        serving = net.wait_ready(timeout=300)
        assert sorted(serving) == ["op0", "op1", "op2"], serving
        op1 = net.requester()
        client = openai.OpenAI(base_url=op1.public_url + "/v1", api_key=op1.api_key, max_retries=0, timeout=120)
        done = client.chat.completions.create(model=localnet.REAL_MODEL, messages=QUESTION, max_tokens=48,
                                              temperature=0)
        answer = done.choices[0].message.content
        print(f"answer {answer!r} usage {done.usage}")
        assert "paris" in answer.lower(), answer

        def records():
            out = []
            for url in net.chain_urls:
                status, body = get_json(f"{url}/inference/inferences/{done.id}")
                if status != 200 or body["inference"]["status"] != "FINISHED":
                    return None
                out.append(body["inference"])
            return out
        recs = wait_until(records, timeout=60, what="the record to be FINISHED on every validator")
        rec = recs[0]
        assert all(r["executor"] == rec["executor"] and r["cost"] == rec["cost"] for r in recs), recs
        assert rec["requester"] == op1.address and rec["executor"] in {p.address for p in net.participants}, rec
        assert (rec["prompt_tokens"], rec["completion_tokens"]) == (done.usage.prompt_tokens,
                                                                    done.usage.completion_tokens), rec
    finally:
        codes = net.stop()
    print(f"stopped: {codes}")
    assert all(code == 0 for name, code in codes.items() if "dapi" in name or "mlnode" in name), codes
