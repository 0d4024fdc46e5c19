import json
import urllib.error
import urllib.request


def http_request(method, url, body=None, headers=None, timeout=10):
    """Returns (status, body_text). Never raises on HTTP error statuses."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get_json(url, timeout=10):
    status, text = http_request("GET", url, timeout=timeout)
    return status, (json.loads(text) if text else None)


def post_json(url, body, timeout=10):
    status, text = http_request("POST", url, body=body, timeout=timeout)
    try:
        return status, (json.loads(text) if text else None)
    except json.JSONDecodeError:
        return status, text
