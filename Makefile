# The two commands of the README: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Class data sharing for the venv's Spark launchers (see SPARK_ENV below).
CDS    := $(CURDIR)/$(VENV)/spark-cds
DEMO   := work/demo
# Size of the sample dump the demo builds (raw content bytes).
DEMO_SIZE ?= 64MB
# Optimizer steps of the demo's tiny model (16 sequences of 256 tokens each).
DEMO_STEPS ?= 200
# Extra pip arguments for torch, e.g. "--index-url https://download.pytorch.org/whl/cpu".
PIP_TORCH_ARGS ?=
# Extra pip arguments for the project, e.g. "-c constraints.txt" (test-lowest below).
PIP_PROJECT_ARGS ?=

.PHONY: install demo test test-lowest lint clean

# spark-env.sh of the venv's PySpark, which its launchers (spark-submit, spark-class, the
# gateway of an in-process session) source first: driver and executors get this venv's Python.
# Then class data sharing: the JVM maps Spark's classes, already parsed and verified, from the
# archive `make` dumps below, which starts a job about 6 s sooner on 2 cores. The JVM ignores
# such an archive while a non-empty folder is on the class path, as Spark's conf folder is;
# so while that folder holds nothing but this file and log4j2.properties (nothing of yours),
# the launchers get an empty one instead and the logging set-up by name. There too, the JVM's
# throughput collector (ParallelGC) instead of G1, which ran the near-dedup job on 4 GB 6%
# faster here (bench/README.md, JVM options), unless your options already pick a collector:
# spark-submit's arguments reach this file, and the JVM refuses two collectors.
LOG4J_BY_NAME := -Dlog4j.configurationFile=file:$$SPARK_CONF_DIR/log4j2.properties
define SPARK_ENV
PYSPARK_PYTHON=$(CURDIR)/$(BIN)/python
PYSPARK_DRIVER_PYTHON=$(CURDIR)/$(BIN)/python
if [ "$$(ls -A "$$SPARK_CONF_DIR" | tr '\n' ' ')" = "log4j2.properties spark-env.sh " ]; then
  SPARK_SUBMIT_OPTS="$(LOG4J_BY_NAME) $${SPARK_SUBMIT_OPTS:-}"
  SPARK_DAEMON_JAVA_OPTS="$(LOG4J_BY_NAME) $${SPARK_DAEMON_JAVA_OPTS:-}"
  if [ -f "$(CDS)/spark.jsa" ]; then
    SPARK_SUBMIT_OPTS="-XX:SharedArchiveFile=$(CDS)/spark.jsa $$SPARK_SUBMIT_OPTS"
  fi
  case " $$SPARK_SUBMIT_OPTS $$* " in
    *-XX:+Use*GC*) ;;
    *) SPARK_SUBMIT_OPTS="-XX:+UseParallelGC $$SPARK_SUBMIT_OPTS" ;;
  esac
  SPARK_CONF_DIR="$(CDS)/conf"
fi
endef
export SPARK_ENV

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@command -v java >/dev/null 2>&1 || { \
	  echo "error: 'java' not found. PySpark 4 needs Java 17:"; \
	  echo "       sudo apt-get install -y openjdk-17-jre-headless"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build. This project's
	# machines hold its CPU wheel locally; elsewhere PIP_TORCH_ARGS points pip at PyTorch's.
	$(BIN)/pip install --quiet $(PIP_TORCH_ARGS) torch==2.13.0
	$(BIN)/pip install --quiet $(PIP_PROJECT_ARGS) -e '.[dev]'
	# Make .venv/bin/spark-submit work without activating the venv: its launcher looks for
	# Spark in bin/spark-distribution before asking `python3` (maybe not this one) to import
	# pyspark; then spark-env.sh (SPARK_ENV above), and log4j2.properties (unless you have
	# one) keeps Spark's own logging at WARN.
	@spark_home=$$($(BIN)/python -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'); \
	  ln -sfn "$$spark_home" $(BIN)/spark-distribution; \
	  mkdir -p "$$spark_home/conf" "$(CDS)/conf"; \
	  printf '%s\n' "$$SPARK_ENV" > "$$spark_home/conf/spark-env.sh"; \
	  test -f "$$spark_home/conf/log4j2.properties" || printf '%s\n' \
	    'rootLogger.level = warn' 'rootLogger.appenderRef.stderr.ref = console' \
	    'appender.console.type = Console' 'appender.console.name = console' \
	    'appender.console.target = SYSTEM_ERR' 'appender.console.layout.type = PatternLayout' \
	    'appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex' \
	    > "$$spark_home/conf/log4j2.properties"
	# The archive holds the classes that a small pipeline run loads (near dedup and statistics
	# included); it is checked by a JVM that must map it (-Xshare:on) before it takes its
	# place, as a cut-off archive would crash every launch. Without it Spark only starts slower.
	@echo "Dumping the JVM's class data sharing archive (a small pipeline run, about 1.5 min)"
	@rm -rf "$(CDS)/spark.jsa" "$(CDS)/run" && \
	  $(BIN)/python jobs/make_sample.py --output "$(CDS)/run/raw" --size 2MB > "$(CDS)/dump.log" 2>&1 && \
	  SPARK_SUBMIT_OPTS="-XX:ArchiveClassesAtExit=$(CDS)/new.jsa" $(BIN)/spark-submit \
	    jobs/pipeline.py --input "$(CDS)/run/raw" --workdir "$(CDS)/run" >> "$(CDS)/dump.log" 2>&1 && \
	  SPARK_SUBMIT_OPTS="-Xshare:on -XX:SharedArchiveFile=$(CDS)/new.jsa" \
	    $(BIN)/spark-submit --version >> "$(CDS)/dump.log" 2>&1 && \
	  mv "$(CDS)/new.jsa" "$(CDS)/spark.jsa" || \
	  echo "note: no class data sharing archive ($(CDS)/dump.log says why): Spark starts slower"
	@rm -rf "$(CDS)/run" "$(CDS)/new.jsa"
	touch $@

# The demo: sample dump -> pipeline -> tokenizer -> pretokenized shards -> tiny GPT-2 trained
# on CPU -> validation loss and a generated sample.
demo: $(STAMP)
	$(BIN)/python jobs/make_sample.py --output $(DEMO)/raw --size $(DEMO_SIZE) --overwrite
	$(BIN)/spark-submit jobs/pipeline.py --input $(DEMO)/raw --workdir $(DEMO) --overwrite
	$(BIN)/python jobs/train_tokenizer.py --data $(DEMO)/clean/train --output $(DEMO)/tokenizer \
	  --vocab-size 8192 --overwrite
	$(BIN)/spark-submit jobs/pretokenize.py --data $(DEMO)/clean --tokenizer $(DEMO)/tokenizer \
	  --output $(DEMO)/tokens --overwrite
	$(BIN)/python jobs/init_model.py --tokenizer $(DEMO)/tokenizer --preset tiny \
	  --output $(DEMO)/model-init --overwrite
	$(BIN)/python jobs/train.py --model $(DEMO)/model-init --data $(DEMO)/tokens \
	  --output $(DEMO)/model --overwrite --mixed-precision no --global-batch 16 --micro-batch 16 \
	  --seq-len 256 --lr 2e-3 --warmup-steps 20 --max-steps $(DEMO_STEPS) --eval-every 100 \
	  --save-every 100 --log-every 20
	$(BIN)/python -m modeling.generate --model $(DEMO)/model --temperature 0 "def read_config(path):"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

# The suite in .venv-lowest, on the lowest version pyproject.toml allows of each runtime
# dependency (torch: the CPU build above): what shows that those bounds are true.
test-lowest:
	$(PYTHON) .ci/lowest_versions.py > .venv-lowest.txt
	$(MAKE) test VENV=.venv-lowest PIP_PROJECT_ARGS="-c $(CURDIR)/.venv-lowest.txt"

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf work spark-warehouse metastore_db .pytest_cache
