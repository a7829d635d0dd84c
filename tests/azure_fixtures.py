"""Fixtures of the azureml target's tests: the fake Azure, its credential, a sample project."""

from __future__ import annotations

import pytest

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _resolve_storage_hosts(monkeypatch, outside: list[str]) -> None:
    """<account>.blob.fake-azure.test -> 127.0.0.1, as a hosts-file line would (only that domain).
    Any other name is refused at once, as offline, and recorded in `outside`: the tests never reach
    beyond 127.0.0.1, and an SDK call aimed at public Azure (a cloud setting lost on the way) fails
    the test instead of waiting out its retries."""
    import socket

    from fake_azure.tls import STORAGE_DOMAIN

    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(host, str) and host.endswith("." + STORAGE_DOMAIN):
            host = "127.0.0.1"
        elif host not in LOCAL_HOSTS and host is not None:
            outside.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: the tests resolve only 127.0.0.1")
        return real(host, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def fake_azure(tmp_path, monkeypatch):
    from fake_azure import FakeAzure

    from mlops_accelerator.azure.connection import ARM_ENDPOINT_ENV, STORAGE_SUFFIX_ENV
    from mlops_accelerator.azure.jobs import POLL_ENV

    fake = FakeAzure(tmp_path / "fake-azure").start()
    outside: list[str] = []
    _resolve_storage_hosts(monkeypatch, outside)
    monkeypatch.setenv(STORAGE_SUFFIX_ENV, fake.storage_suffix)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_bundle))
    monkeypatch.setenv(ARM_ENDPOINT_ENV, fake.endpoint)
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.setenv(POLL_ENV, "0.1")  # the fake's jobs change status within seconds
    monkeypatch.delenv("AZUREML_CURRENT_CLOUD", raising=False)
    yield fake
    from fake_azure.jobs import wait_quiet

    wait_quiet(fake)
    fake.stop()
    assert not fake.unhandled, f"the product called operations the fake does not implement: {fake.unhandled}"
    assert not outside, f"the product tried to reach beyond 127.0.0.1: {sorted(set(outside))}"


@pytest.fixture
def fake_credential(monkeypatch):
    from fake_azure import FakeCredential

    from mlops_accelerator.azure import connection

    cred = FakeCredential()
    monkeypatch.setattr(connection, "credential", lambda mode=None, tenant_id=None: cred)
    return cred


@pytest.fixture
def sample_project(tmp_path):
    from mlops_accelerator.sample import sample_settings
    from mlops_accelerator.workspace import Project

    settings = sample_settings()
    return Project.create(tmp_path / "sample", settings["foundations"]["project_name"], settings)
