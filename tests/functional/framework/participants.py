"""Participants, their MLNodes and PoC rounds as the functional tests drive them through a ChainNode."""
import base64
import threading

from .chain import write_json
from .http import get_json
from .process import wait_until


def hw_node(local_id, models, port=5000, gpus=1):
    """One MLNode entry of a hardware diff: `gpus` H100s serving `models` on `port` (PoC on port + 1)."""
    return {"local_id": local_id, "status": "INFERENCE", "models": models,
            "hardware": [{"type": "NVIDIA H100 80GB", "count": gpus}], "host": "10.0.0.7",
            "inference_port": port, "poc_port": port + 1}


def sequence(node, address):
    return int(node.query(f"/auth/accounts/{address}")["sequence"])


def send_fast(node, batches, all_accepted=False):
    """batches: {key: (address, [tx args...])}. Each key's txs go out back to back with explicit sequences and
    --no-wait (keys in parallel), so a handful of txs fits in a few blocks. Returns {key: [tx result...]}: the
    committed result of every accepted tx, the CheckTx answer of every refused one. With all_accepted, a tx
    refused by CheckTx fails the test."""
    sent_all = {}

    def run(key, address, txs):
        seq = sequence(node, address)
        out = []
        for args in txs:
            code, r, _ = node.tx(*args, "--from", key, "--no-wait", "--sequence", seq, check=False)
            if all_accepted:
                assert r is not None and r.get("code", 1) == 0, (args, code, r)
            else:
                assert r is not None, (args, code)
            if r.get("code", 1) == 0:
                seq += 1
            out.append(r)
        sent_all[key] = out

    threads = [threading.Thread(target=run, args=(k, a, t)) for k, (a, t) in batches.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = {}
    for key, sent in sent_all.items():
        results[key] = []
        for r in sent:
            if r.get("code", 1) != 0:  # refused by CheckTx
                results[key].append(r)
                continue
            h = r["txhash"]
            wait_until(lambda: get_json(f"{node.url}/txs/{h}")[0] == 200, timeout=30, what=f"tx {h}")
            results[key].append(get_json(f"{node.url}/txs/{h}")[1])
    return results


def wait_poc_window(node):
    """Waits until an upcoming epoch's batch window is open with at least 5 blocks left; returns (epoch, stages)."""
    def ready():
        e = node.query("/inference/epoch")
        s = e["stages"]
        if e["upcoming_epoch_index"] is None:
            return None
        return (e, s) if s["poc_start"] < node.height() <= s["poc_exchange_end"] - 5 else None
    return wait_until(ready, timeout=60, what="an open PoC batch window")


def group(node, epoch, model=None):
    """The epoch group of `epoch` (the parent group, or the sub-group of `model`)."""
    return node.query(f"/inference/epoch-groups/{epoch}" + (f"/{model}" if model else ""))["epoch_group"]


def validator_key_file(workdir, name, seed):
    """Writes an ed25519 validator key file for `inferenced tx inference submit-new-participant
    --validator-key-file`: {"priv_key": base64(32-byte seed)}; the CLI derives the public key and signs the key
    proof (docs/transactions.md). Returns its path."""
    return write_json(workdir, f"{name}-validator-key.json", {"priv_key": base64.b64encode(seed).decode()})


def register_participant(node, workdir, key, index, url=None):
    """Registers account `key` as a participant with the validator key of seed bytes([index + 1]) * 32,
    proving its possession as the chain requires."""
    node.tx("inference", "submit-new-participant", url or f"http://{key}.example:8000", "--validator-key-file",
            validator_key_file(workdir, key, bytes([index + 1]) * 32), "--from", key)


def register_participants(node, workdir, hardware):
    """hardware: {key: [hw_node...]}. Registers each key as a participant (the i-th with the validator key of
    seed bytes([i + 1]) * 32) and submits its MLNodes as a hardware diff."""
    for i, (key, hw) in enumerate(hardware.items()):
        register_participant(node, workdir, key, i)
        node.tx("inference", "submit-hardware-diff", write_json(workdir, f"{key}.json", {"new_or_modified": hw}),
                "--from", key)
