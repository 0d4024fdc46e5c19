#!/usr/bin/env python3
"""Requester-signed inference requests with the official `openai` client (docs/requester-signature.md).

A funded account (not a participant) pays for its own requests: every request body is signed with the
account's secp256k1 key for one transfer agent (the dapi it is sent to). The signature is added by an
HTTP "request" event hook of the HTTP client the `openai` client uses, so the client works unchanged.

    pip install openai coincurve
    python3 examples/signed_requests.py --dapi http://127.0.0.1:9000 --chain-id gonka-test-1 \
        --transfer-agent gonka1... --requester gonka1... --key-hex <32-byte private key in hex> \
        --model Qwen/Qwen2.5-7B-Instruct

The private key is the account's key (e.g. `private_key` of the key in inferenced's keyring.json); keep it
out of logs and shell history in real use.
"""
import argparse
import hashlib
import struct
import time

import coincurve
from coincurve.ecdsa import der_to_cdata, serialize_compact

try:  # newer `openai` releases build on httpx2, older ones on httpx; both have event hooks
    import httpx2 as httpx
except ImportError:
    import httpx

DOMAIN = b"inference/request/v1"


def sign_bytes(chain_id: str, transfer_agent: str, timestamp_ms: int, body: bytes) -> bytes:
    """ "inference/request/v1" 0x00 chain_id 0x00 transfer_agent 0x00 be64(timestamp_ms) SHA-256(body)"""
    return (DOMAIN + b"\0" + chain_id.encode() + b"\0" + transfer_agent.encode() + b"\0" +
            struct.pack(">Q", timestamp_ms) + hashlib.sha256(body).digest())


def sign(key: coincurve.PrivateKey, message: bytes) -> bytes:
    """64-byte compact secp256k1 signature (r || s, low-S, RFC 6979) over SHA-256(message)."""
    der = key.sign(hashlib.sha256(message).digest(), hasher=None)
    return serialize_compact(der_to_cdata(der))


def signing_hook(key: coincurve.PrivateKey, requester: str, chain_id: str, transfer_agent: str):
    """An httpx "request" event hook adding the requester headers to every POST."""

    def hook(request):
        if request.method != "POST":
            return
        body = request.read()  # the exact bytes that will be sent
        ts = int(time.time() * 1000)
        request.headers["X-Requester-Address"] = requester
        request.headers["X-Requester-Timestamp"] = str(ts)
        request.headers["X-Requester-Signature"] = sign(key, sign_bytes(chain_id, transfer_agent, ts, body)).hex()

    return hook


def signed_client(dapi_url: str, key_hex: str, requester: str, chain_id: str, transfer_agent: str, **kwargs):
    import openai

    key = coincurve.PrivateKey(bytes.fromhex(key_hex))
    http = httpx.Client(event_hooks={"request": [signing_hook(key, requester, chain_id, transfer_agent)]},
                        follow_redirects=False)
    # No API key is needed; the openai client insists on a value, which dapi ignores for signed requests.
    return openai.OpenAI(base_url=dapi_url.rstrip("/") + "/v1", api_key="signed", http_client=http, **kwargs)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dapi", required=True)
    p.add_argument("--chain-id", required=True)
    p.add_argument("--transfer-agent", required=True, help="bech32 address of the dapi's participant")
    p.add_argument("--requester", required=True, help="bech32 address of the paying account")
    p.add_argument("--key-hex", required=True)
    p.add_argument("--model", required=True)
    a = p.parse_args()
    client = signed_client(a.dapi, a.key_hex, a.requester, a.chain_id, a.transfer_agent, max_retries=0)
    r = client.chat.completions.create(model=a.model, messages=[{"role": "user", "content": "Hello"}],
                                       max_tokens=16)
    print(r.choices[0].message.content)
    print(r.usage)


if __name__ == "__main__":
    main()
