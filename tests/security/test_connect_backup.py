"""A distributed Connect worker and a backup rule against a SASL_SSL broker, configured with
Kafka's Java client keys (sasl.jaas.config, a PEM trust store) as a Kafka user writes them.
The worker's group membership (its own protocol client) authenticates too."""

from __future__ import annotations

import json
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from fjord.objectstore.local import LocalStore
from tests.backup.support import backed_up, fjord
from tests.connect.support import WorkerProcess, wait_until
from tests.security.support import PASSWORD, USER, SecureBroker


def test_worker_and_backup_rule_over_sasl_ssl(secure_broker: SecureBroker, tmp_path: Path) -> None:
    conf = secure_broker.confluent("SASL_SSL", "SCRAM-SHA-512")
    admin = AdminClient(conf)
    for future in admin.create_topics([NewTopic("ticks", 2, 1)]).values():
        future.result(timeout=30)
    producer = Producer(conf)
    for i in range(200):
        producer.produce("ticks", key=b"k%d" % i, value=json.dumps({"i": i}).encode(), partition=i % 2)
    assert producer.flush(30) == 0

    worker = WorkerProcess(tmp_path / "worker", secure_broker.address("SASL_SSL"), "distributed", {
        "group.id": "secure-connect", "config.storage.topic": "cfg", "offset.storage.topic": "off",
        "status.storage.topic": "st", "config.storage.replication.factor": "1",
        "offset.storage.replication.factor": "1", "status.storage.replication.factor": "1",
        "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
                            f'username="{USER}" password="{PASSWORD}";',
        "ssl.truststore.type": "PEM", "ssl.truststore.location": str(secure_broker.tls.ca_file),
    }).start(timeout=60)
    try:
        client_file = tmp_path / "client.properties"
        client_file.write_text("".join(f"{k}={v}\n" for k, v in worker.props.items()
                                       if k.startswith(("security.", "sasl.", "ssl."))))
        created = fjord("backup", "create", "ticks-rule", "--topics", "ticks", "--to",
                        f"file://{tmp_path}/backups/", "--interval", "10s", "--flush-size", "50",
                        "--bootstrap-server", secure_broker.address("SASL_SSL"),
                        "--command-config", str(client_file), "--connect", worker.url)
        assert created.returncode == 0, created.stderr
        store = LocalStore(tmp_path / "backups")
        wait_until(lambda: sum(map(len, backed_up(store, "", "ticks").values())) >= 200, timeout=120,
                   interval=1.0, message="the backup to hold every record")
        log = worker.log_path.read_text()
        assert "joined group" in log.lower() or "generation" in log.lower(), log[-2000:]
        assert PASSWORD not in log
    finally:
        worker.stop()
