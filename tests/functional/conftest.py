import os
import shutil
import tempfile

import pytest

from framework import Process


@pytest.fixture
def workdir(request):
    """A temp dir for homes and logs; kept (and its path printed) when the test fails."""
    d = tempfile.mkdtemp(prefix=f"ft-{request.node.name[:40]}-")
    yield d
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if not failed:
        shutil.rmtree(d, ignore_errors=True)
    else:
        print(f"test files kept in {d}")


@pytest.fixture
def procs(request):
    """Collects Process objects; stops them all at the end and prints their logs if the test failed."""
    started = []
    yield started
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for p in started:
        if failed:
            p.dump_log()
        p.kill9()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_sessionfinish(session, exitstatus):
    """A file whose every test was skipped (e.g. the real model is not installed) exits 77, so ctest shows it as
    Skipped with the reason in its output rather than as Passed (cmake/testing.cmake sets SKIP_RETURN_CODE 77)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus == 0 and reporter is not None:
        if reporter.stats.get("skipped") and not reporter.stats.get("passed"):
            session.exitstatus = 77
