"""Shared helpers for functional tests: real processes on 127.0.0.1, free ports, temp dirs, waiting on conditions."""
from .process import Process, build_dir, binary, free_port, wait_until
from .http import get_json, post_json, http_request

__all__ = ["Process", "build_dir", "binary", "free_port", "wait_until", "get_json", "post_json", "http_request"]
