"""The spark-env.sh that `make install` writes: this venv's Python, and class data sharing only
while PySpark's conf folder holds nothing but what `make` put there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyspark
import pytest
from conftest import VENV_BIN, launch_env
from pyspark.sql import SparkSession

from dataprep.session import job_description

SPARK_ENV = Path(pyspark.__file__).parent / "conf" / "spark-env.sh"
ARCHIVE_FLAG = "-XX:SharedArchiveFile="

pytestmark = pytest.mark.skipif(
    not SPARK_ENV.exists(), reason="no spark-env.sh: the venv was not set up by `make install`"
)


def _sourced(conf: Path, *arguments: str, submit_opts: str = "") -> dict[str, str]:
    """SPARK_CONF_DIR and the options after sourcing conf/spark-env.sh as Spark's launcher does:
    with spark-submit's `arguments` as the script's own, and SPARK_SUBMIT_OPTS as given."""
    names = ("SPARK_CONF_DIR", "SPARK_SUBMIT_OPTS", "SPARK_DAEMON_JAVA_OPTS", "PYSPARK_PYTHON")
    script = (
        f'export SPARK_CONF_DIR="{conf}"; set -a; . "{conf}/spark-env.sh"; set +a; '
        + "; ".join(f'echo "${{{name}:-}}"' for name in names)
    )
    env = {"PATH": "/usr/bin:/bin", "SPARK_SUBMIT_OPTS": submit_opts}
    out = subprocess.run(
        ["bash", "-c", script, "spark-class", *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(zip(names, out.stdout.splitlines(), strict=True))


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """A copy of PySpark's conf folder as `make install` leaves it."""
    folder = tmp_path / "conf"
    folder.mkdir()
    shutil.copy(SPARK_ENV, folder / "spark-env.sh")
    (folder / "log4j2.properties").write_text("rootLogger.level = warn\n")
    return folder


def test_launchers_get_an_empty_conf_folder_and_the_logging_by_name(conf: Path) -> None:
    env = _sourced(conf)
    redirected = Path(env["SPARK_CONF_DIR"])
    assert redirected != conf and redirected.is_dir() and not any(redirected.iterdir())
    logging = f"-Dlog4j.configurationFile=file:{conf}/log4j2.properties"
    assert logging in env["SPARK_SUBMIT_OPTS"].split()
    assert logging in env["SPARK_DAEMON_JAVA_OPTS"].split()
    archive = redirected.parent / "spark.jsa"
    assert (f"{ARCHIVE_FLAG}{archive}" in env["SPARK_SUBMIT_OPTS"]) == archive.exists()
    assert env["PYSPARK_PYTHON"].endswith("/bin/python")


PARALLEL_GC = "-XX:+UseParallelGC"


def test_launchers_pick_the_throughput_collector_unless_told_another(conf: Path) -> None:
    assert PARALLEL_GC in _sourced(conf)["SPARK_SUBMIT_OPTS"].split()
    submit = ("org.apache.spark.deploy.SparkSubmit", "--master", "local[2]", "job.py")
    assert PARALLEL_GC in _sourced(conf, *submit)["SPARK_SUBMIT_OPTS"].split()
    # The JVM refuses two collectors: one chosen anywhere it can be is left alone.
    chosen = [
        (("--driver-java-options", "-Xss4m -XX:+UseG1GC"), ""),
        (("--conf", "spark.driver.extraJavaOptions=-XX:+UseZGC"), ""),
        ((), "-XX:+UseSerialGC"),
    ]
    for arguments, submit_opts in chosen:
        env = _sourced(conf, *submit, *arguments, submit_opts=submit_opts)
        assert PARALLEL_GC not in env["SPARK_SUBMIT_OPTS"].split(), (arguments, submit_opts)
        assert submit_opts in env["SPARK_SUBMIT_OPTS"]


def test_a_conf_folder_with_files_of_yours_is_left_as_it_is(conf: Path) -> None:
    (conf / "spark-defaults.conf").write_text("spark.executor.memory 8g\n")
    env = _sourced(conf)
    assert env["SPARK_CONF_DIR"] == str(conf)
    assert env["SPARK_SUBMIT_OPTS"] == "" and env["SPARK_DAEMON_JAVA_OPTS"] == ""
    assert env["PYSPARK_PYTHON"].endswith("/bin/python")


def test_spark_jvms_map_the_archive(spark: SparkSession) -> None:
    """The test session came through PySpark's gateway, which sources spark-env.sh too."""
    env = _sourced(SPARK_ENV.parent)
    archive = Path(env["SPARK_CONF_DIR"]).parent / "spark.jsa"
    if not archive.exists():
        pytest.skip("no class data sharing archive: make install could not dump one")
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    assert f"{ARCHIVE_FLAG}{archive}" in list(runtime.getInputArguments())
    # With -Xshare:on a JVM that cannot map the archive (another class path, a non-empty
    # folder on it, a damaged file) refuses to start instead of starting without it.
    env = launch_env() | {"SPARK_SUBMIT_OPTS": "-Xshare:on"}
    result = subprocess.run(
        [str(VENV_BIN / "spark-submit"), "--version"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_spark_jvms_run_the_throughput_collector(spark: SparkSession) -> None:
    """The test session's JVM, launched through spark-env.sh with no collector of its own."""
    if Path(_sourced(SPARK_ENV.parent)["SPARK_CONF_DIR"]) == SPARK_ENV.parent:
        pytest.skip("PySpark's conf folder holds files of yours: spark-env.sh leaves the JVM be")
    management = spark.sparkContext._jvm.java.lang.management.ManagementFactory
    assert PARALLEL_GC in list(management.getRuntimeMXBean().getInputArguments())
    collectors = [bean.getName() for bean in management.getGarbageCollectorMXBeans()]
    assert sorted(collectors) == ["PS MarkSweep", "PS Scavenge"]


def test_job_description_labels_the_jobs_inside_and_restores_the_label(
    spark: SparkSession,
) -> None:
    context = spark.sparkContext
    with job_description(spark, "outer"):
        with job_description(spark, "inner"):
            assert context.getLocalProperty("spark.job.description") == "inner"
        assert context.getLocalProperty("spark.job.description") == "outer"
    assert context.getLocalProperty("spark.job.description") is None
