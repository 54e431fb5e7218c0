"""A single-node Apache Kafka 4.x broker in KRaft mode, fetched from Maven Central and run with java."""

import base64
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cxa.stack.errors import StackError
from cxa.stack.waiting import port_is_open, wait_until

log = logging.getLogger(__name__)

HOST = "127.0.0.1"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.cxa</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>{artifact}</artifactId>
      <version>{version}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>2.0.16</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId>
      <version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>2.24.3</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
"""


def new_cluster_id(random_bytes: bytes | None = None) -> str:
    """A KRaft cluster id in Kafka's format, 22 characters of URL-safe base64 of 16 random bytes,
    whose first character is a letter or digit so that no command line can read it as an option.

    ``random_bytes`` (16 of them) replaces the random draw; a first byte that would encode as "-" or
    "_" (0xf8 and above) loses its top bit.

    >>> new_cluster_id(bytes([0xF8]) + bytes(15))
    'eAAAAAAAAAAAAAAAAAAAAA'
    """
    raw = bytearray(uuid.uuid4().bytes if random_bytes is None else random_bytes)
    if len(raw) != 16:
        raise ValueError(f"a cluster id is made of 16 bytes, not {len(raw)}")
    if raw[0] >= 0xF8:  # the first six bits would be 62 ("-") or 63 ("_")
        raw[0] &= 0x7F
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def _require(tool: str, how: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise StackError(f"`{tool}` was not found on PATH. {how}")
    return path


@dataclass(frozen=True)
class KafkaBroker:
    """One broker+controller process; its files live under ``home``, its jars under ``cache_dir``."""

    home: Path
    cache_dir: Path
    version: str
    port: int
    controller_port: int
    heap: str = "512m"

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def lib_dir(self) -> Path:
        return self.cache_dir / "kafka" / self.version / "lib"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.log"

    # -- fetching ---------------------------------------------------------------------------

    @property
    def tools_dir(self) -> Path:
        return self.cache_dir / "kafka" / self.version / "tools"

    def fetch(self) -> Path:
        """Download the broker's jars once into the cache (Maven resolves the dependencies)."""
        return self._resolve("kafka_2.13", self.lib_dir)

    def fetch_tools(self) -> Path:
        """Download Kafka's command-line tools once (``kafka-tools``: the console producer and
        consumer, ``org.apache.kafka.tools.*``); run them with ``java -cp '<dir>/*'``."""
        return self._resolve("kafka-tools", self.tools_dir)

    def _resolve(self, artifact: str, out_dir: Path) -> Path:
        done = out_dir / ".complete"
        if done.exists():
            return out_dir
        mvn = _require("mvn", "Install Maven (Debian: `apt-get install maven`) to fetch Kafka.")
        log.info("Fetching Apache Kafka's %s %s from Maven Central (once)...", artifact, self.version)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "pom.xml").write_text(_POM.format(artifact=artifact, version=self.version))
            result = subprocess.run(
                [
                    mvn,
                    "-B",
                    "-q",
                    "dependency:copy-dependencies",
                    "-DincludeScope=runtime",
                    f"-DoutputDirectory={out_dir.resolve()}",
                ],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=False,
            )
        if result.returncode != 0:
            raise StackError(
                f"Maven could not fetch org.apache.kafka:{artifact}:{self.version}:\n"
                f"{(result.stdout + result.stderr)[-2000:]}\n"
                "Check that Maven Central is reachable and CXA_KAFKA_VERSION names a released 4.x."
            )
        done.touch()
        return out_dir

    # -- lifecycle --------------------------------------------------------------------------

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        if java_home and (Path(java_home) / "bin" / "java").exists():
            return str(Path(java_home) / "bin" / "java")
        return _require(
            "java",
            "Install a Java 17+ runtime (Debian: "
            "`apt-get install openjdk-17-jre-headless`) or set JAVA_HOME.",
        )

    def _write_config(self) -> Path:
        data = (self.home / "data").resolve()
        properties = self.home / "server.properties"
        properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{HOST}:{self.controller_port}",
                    f"listeners=PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://{HOST}:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={data}",
                    # a single broker: every internal topic has one replica
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "num.partitions=4",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                    "",
                ]
            )
        )
        (self.home / "log4j2.yaml").write_text(_LOG4J2)
        return properties

    def _classpath(self) -> str:
        return f"{self.lib_dir.resolve()}/*"

    def _format_storage(self, java: str, properties: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        result = subprocess.run(
            [
                java,
                "-cp",
                self._classpath(),
                "kafka.tools.StorageTool",
                "format",
                # One argument, so that even an id starting with "-" could not be read as an option.
                f"--cluster-id={new_cluster_id()}",
                "-c",
                str(properties),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"Formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def pid(self) -> int | None:
        """The broker's pid if the process this stack started is alive."""
        try:
            pid = int(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"kafka.Kafka" not in cmdline.read_bytes():
            return None  # the pid was reused by something else
        return pid

    def is_healthy(self) -> bool:
        from confluent_kafka.admin import AdminClient

        if not port_is_open(HOST, self.port):
            return False
        try:
            metadata = AdminClient({"bootstrap.servers": self.bootstrap_servers}).list_topics(timeout=2)
        except Exception:
            return False
        return bool(metadata.brokers)

    def start(self, timeout: float = 90) -> bool:
        """Start the broker unless it already runs; returns whether it was started now."""
        if self.pid() is not None:
            return False
        java = self._java()
        self.fetch()
        for port in (self.port, self.controller_port):
            if port_is_open(HOST, port):
                raise StackError(
                    f"Port {port} is already in use by another process. Stop it, or choose other "
                    "ports with CXA_KAFKA_PORT / CXA_KAFKA_CONTROLLER_PORT."
                )
        self.home.mkdir(parents=True, exist_ok=True)
        properties = self._write_config()
        self._format_storage(java, properties)
        with self.log_file.open("ab") as log_out:
            process = subprocess.Popen(
                [
                    java,
                    f"-Xmx{self.heap}",
                    f"-Xms{self.heap}",
                    "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    f"-Dlog4j2.configurationFile={(self.home / 'log4j2.yaml').resolve()}",
                    f"-Dkafka.logs.dir={self.home.resolve()}",
                    "-cp",
                    self._classpath(),
                    "kafka.Kafka",
                    str(properties.resolve()),
                ],
                stdout=log_out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))

        def ready() -> bool:
            if process.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-3000:]
                raise StackError(f"Kafka exited with code {process.returncode}. Log tail:\n{tail}")
            return self.is_healthy()

        wait_until(ready, timeout=timeout, what=f"Kafka on {self.bootstrap_servers}")
        return True

    def stop(self, timeout: float = 30) -> bool:
        """Stop the broker this stack started; returns whether one was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.pid() is not None:
            log.warning("Kafka (pid %d) did not stop in %.0f s; killing it.", pid, timeout)
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True
