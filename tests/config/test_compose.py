"""docker-compose.yml: what the file promises about the services, read from the file itself."""
from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())


def test_the_brokers_redis_keeps_its_queue_on_a_volume_across_restarts():
    redis = COMPOSE["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    data_volume = next(v for v in redis["volumes"] if v.endswith(":/data"))
    assert data_volume.split(":")[0] in COMPOSE["volumes"]
