"""PoC on two ML nodes of one participant (node_count 2): batches reach the callback with node_id, no nonce appears
twice, honest batches validate without fraud and tampered batches (distances altered for 2 % of nonces) are fraud."""
from framework import get_json, http_request, post_json, wait_until
from framework.mlnode import CallbackServer, MlNode

BLOCK_HASH = "8F2A6C1D0E9B47A3C5D1E2F30415263748596A7B8C9D0E1F2A3B4C5D6E7F8091"
PUBLIC_KEY = "02a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
R_TARGET = 1.4013564660458173


def init_body(callback, node_id, node_count):
    return {"node_id": node_id, "node_count": node_count, "block_hash": BLOCK_HASH, "block_height": 120,
            "public_key": PUBLIC_KEY, "batch_size": 50, "r_target": R_TARGET, "fraud_threshold": 1e-7,
            "params": {"dim": 128, "n_layers": 4, "n_heads": 4, "ffn_dim": 256, "vocab_size": 1024, "seq_len": 8},
            "url": callback.url}


def start_nodes(procs, workdir, n):
    return [MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--poc-send-interval-ms", "500"],
                   name=f"mlnode-{i}").start() for i in range(n)]


def test_two_nodes_generate_disjoint_nonces_and_validation_catches_tampering(procs, workdir):
    with CallbackServer() as callback:
        nodes = start_nodes(procs, workdir, 2)
        for node_id, node in enumerate(nodes):
            status, body = post_json(node.poc_url + "/api/v1/pow/init/generate", init_body(callback, node_id, 2))
            assert status == 200 and body["pow_status"]["status"] == "GENERATING", body
            assert get_json(node.poc_url + "/api/v1/state")[1]["state"] == "POW"

        wait_until(lambda: len(callback.generated_nonces(0)) >= 300 and len(callback.generated_nonces(1)) >= 600,
                   timeout=120, interval=0.2, what="hundreds of nonces from both nodes")

        status, st = get_json(nodes[1].poc_url + "/api/v1/pow/status")
        assert status == 200 and st["status"] == "GENERATING" and st["nonces_per_second"] > 0, st
        assert st["node_id"] == 1 and st["node_count"] == 2 and st["nonces_computed"] >= st["hits"] > 0, st
        print(f"node 1: {st['nonces_per_second']:.0f} nonces/s, {st['hits']} hits of {st['nonces_computed']} nonces")

        # Validation is only accepted after init/validate.
        status, body = post_json(nodes[0].poc_url + "/api/v1/pow/validate",
                                 {"public_key": PUBLIC_KEY, "block_hash": BLOCK_HASH, "block_height": 120,
                                  "nonces": [1], "dist": [1.0]})
        assert status == 409 and "init/validate" in body["error"]["message"], body

        # Every batch names its node; every nonce appears once and lies in its node's range; distances are hits.
        seen = set()
        for batch in callback.generated:
            assert batch["block_hash"] == BLOCK_HASH and batch["public_key"] == PUBLIC_KEY
            assert batch["node_id"] in (0, 1)
            for nonce, dist in zip(batch["nonces"], batch["dist"]):
                assert nonce not in seen, f"nonce {nonce} reported twice"
                seen.add(nonce)
                assert nonce % 2 == batch["node_id"]
                assert dist < R_TARGET

        # Node 0 turns validator and recomputes node 1's nonces.
        status, body = post_json(nodes[0].poc_url + "/api/v1/pow/init/validate", init_body(callback, 0, 2))
        assert status == 200 and body["pow_status"]["status"] == "VALIDATING", body
        node1 = sorted(callback.generated_nonces(1))[:600]
        honest = {"public_key": PUBLIC_KEY, "block_hash": BLOCK_HASH, "block_height": 120, "node_id": 0,
                  "nonces": [n for n, _ in node1], "dist": [d for _, d in node1]}
        tampered = dict(honest, dist=[d * 0.95 if i % 50 == 0 else d for i, d in enumerate(honest["dist"])])
        altered = sum(1 for a, b in zip(honest["dist"], tampered["dist"]) if a != b)
        assert altered / len(honest["dist"]) > 0.01

        assert post_json(nodes[0].poc_url + "/api/v1/pow/validate", honest)[0] == 200
        assert post_json(nodes[0].poc_url + "/api/v1/pow/validate", tampered)[0] == 200
        results = wait_until(lambda: callback.validated_batches() if len(callback.validated_batches()) == 2 else None,
                             timeout=60, interval=0.2, what="two validated batches")
        by_fraud = {r["fraud_detected"]: r for r in results}
        assert set(by_fraud) == {False, True}, results
        honest_result, fraud_result = by_fraud[False], by_fraud[True]
        assert honest_result["n_invalid"] == 0 and honest_result["probability_honest"] == 1.0
        assert honest_result["dist"] == honest["dist"], "recomputation in another process gives identical distances"
        assert fraud_result["n_invalid"] == altered and fraud_result["probability_honest"] < 1e-7
        assert fraud_result["received_dist"] == tampered["dist"]
        print(f"validated {len(honest['nonces'])} nonces: honest n_invalid 0; tampered n_invalid {altered}, "
              f"p={fraud_result['probability_honest']:.3g}")

        # stop returns to STOPPED; generating again after stop works from scratch.
        for node in nodes:
            assert post_json(node.poc_url + "/api/v1/stop", None)[0] == 200
            assert get_json(node.poc_url + "/api/v1/state")[1]["state"] == "STOPPED"
            assert get_json(node.poc_url + "/api/v1/pow/status")[1]["status"] == "NOT_LOADED"


def test_init_requests_are_validated(procs, workdir):
    with CallbackServer() as callback:
        node = start_nodes(procs, workdir, 1)[0]
        body = init_body(callback, 2, 2)
        status, resp = post_json(node.poc_url + "/api/v1/pow/init/generate", body)
        assert status == 400 and "node_id must be in [0, node_count)" in resp["error"]["message"], resp
        assert get_json(node.poc_url + "/api/v1/state")[1]["state"] == "STOPPED"
        status, resp = post_json(node.poc_url + "/api/v1/pow/init/generate", dict(body, node_id=0, params={"dim": 30}))
        assert status == 400 and "params.dim" in resp["error"]["message"], resp
        status, resp = post_json(node.poc_url + "/api/v1/pow/init/generate", b"{not json")
        assert status == 400 and resp["error"]["code"] == "invalid_request" and "not valid JSON" in resp["error"]["message"]


def test_failed_callbacks_are_retried(procs, workdir):
    with CallbackServer(fail_first=3) as callback:
        node = start_nodes(procs, workdir, 1)[0]
        assert post_json(node.poc_url + "/api/v1/pow/init/generate", init_body(callback, 0, 1))[0] == 200
        wait_until(lambda: len(callback.generated_nonces()) > 0, timeout=60, interval=0.2, what="a delivered batch")
        status, st = get_json(node.poc_url + "/api/v1/pow/status")
        assert st["callback_failures"] >= 3, st
        metrics = http_request("GET", node.poc_url + "/metrics")[1]
        assert "mlnode_poc_callback_failures_total" in metrics and "mlnode_poc_nonces_computed_total" in metrics
