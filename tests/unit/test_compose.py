"""docker-compose.yml stays valid and runs only commands that exist."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cxa.cli import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _has_compose(), reason="the docker compose plugin is not installed")
def test_docker_compose_config_parses() -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_kafka_is_the_official_image_in_kraft_mode() -> None:
    kafka = COMPOSE["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:4.")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


@pytest.mark.parametrize("name", ["migrate", "worker", "simulator"])
def test_platform_services_share_one_image_and_run_real_commands(name: str) -> None:
    service = COMPOSE["services"][name]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (ROOT / service["build"]["dockerfile"]).exists()
    result = CliRunner().invoke(app, [*service["command"], "--help"])
    assert result.exit_code == 0, result.output


def test_the_gateway_reads_the_mapping_file_it_mounts_and_reports_its_health() -> None:
    gateway = COMPOSE["services"]["gateway"]
    source, target, _ = gateway["volumes"][0].split(":")
    assert (ROOT / source).is_file()
    assert gateway["environment"]["CXA_INGEST_MAPPING_FILE"] == target
    assert "/readyz" in " ".join(gateway["healthcheck"]["test"])
    from connectors.vendors.mapping import load_mappings

    assert set(load_mappings(ROOT / source)) == {"zendesk", "freshdesk", "jira", "chatwoot"}


def test_the_gateway_trusts_the_forwarded_for_of_a_proxy_on_the_host_only() -> None:
    from connectors.settings import GatewaySettings

    setting = COMPOSE["services"]["gateway"]["environment"]["CXA_INGEST_FORWARDED_ALLOW_IPS"]
    default = setting.removeprefix("${CXA_INGEST_FORWARDED_ALLOW_IPS:-").removesuffix("}")
    settings = GatewaySettings(forwarded_allow_ips=default, _env_file=None)  # type: ignore[call-arg]
    assert settings.trusted_proxies() == ["172.16.0.0/12"]
