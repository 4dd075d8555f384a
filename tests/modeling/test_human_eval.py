"""HumanEval scoring: the estimator, canonical solutions, and hostile programs contained."""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from modeling.evaluation.human_eval import (
    Sampling,
    load_problems,
    sample_completions,
    score,
    truncate,
)
from modeling.evaluation.pass_at_k import pass_at_k
from modeling.evaluation.sandbox import Limits, run_program

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def problems():
    return load_problems()


def test_estimator_matches_exact_combinatorics():
    for n in range(1, 21):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
                assert pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-12)
    assert pass_at_k(200, 0, 100) == 0.0 and pass_at_k(200, 1, 1) == pytest.approx(1 / 200)
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)


def test_truncation_at_stop_sequences():
    assert truncate("    return 1\n\ndef g():\n    pass") == "    return 1\n"
    assert truncate("    return 1\nprint(2)\n# note") == "    return 1"
    assert truncate("    return x if x else 0") == "    return x if x else 0"


def test_canonical_solutions_all_pass_and_empty_ones_all_fail(problems):
    canonical = [{"task_id": t, "completion": p["canonical_solution"]} for t, p in problems.items()]
    records, table = score(canonical, problems)
    assert len(problems) == 164
    assert table["pass@1"] == 1.0, [r for r in records if not r["passed"]][:3]
    empty = [{"task_id": t, "completion": ""} for t in problems]
    _, table = score(empty, problems)
    assert table["pass@1"] == 0.0 and table["tasks"] == 164


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_hostile_programs_are_contained(problems, tmp_path, monkeypatch):
    guarded = tmp_path / "guarded"
    (guarded / "sub").mkdir(parents=True)
    (guarded / "a.txt").write_text("precious")
    (guarded / "sub" / "b.txt").write_text("also precious")
    before = _digest(guarded)
    monkeypatch.setenv("HUMANEVAL_SECRET", "s3cr3t")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    attacks = {
        "delete": f"import os\nos.remove({str(guarded / 'a.txt')!r})",
        "rmtree": f"import shutil\nshutil.rmtree({str(guarded)!r})",
        "overwrite": f"open({str(guarded / 'a.txt')!r}, 'w').write('pwned')",
        "os.open": f"import os\nos.open({str(guarded / 'sub/b.txt')!r}, os.O_WRONLY | os.O_TRUNC)",
        "fork bomb": "import os\nwhile True:\n    os.fork()",
        "posix fork": "import posix\nwhile True:\n    posix.fork()",
        "memory bomb": "hog = [bytearray(10**8) for _ in range(200)]",
        "infinite loop": "while True:\n    pass",
        "ignores signals": (
            "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n"
            "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass"
        ),
        "network": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)",
        "urllib": f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}')",
        "kill parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
        "posix kill": "import posix\nposix.kill(posix.getppid(), 9)",
        "exit early": "import os\nos._exit(0)",
        "secrets": "import os\nassert os.environ.get('HUMANEVAL_SECRET') == 's3cr3t'",
        "huge file": "with open('big.bin', 'wb') as f:\n    f.write(b'0' * 10**9)",
        "ctypes": "import ctypes\nctypes.CDLL(None).kill(0, 9)",
        # The runner is the interpreter's __main__: its globals must not switch the guard off.
        "guard's settings": (
            "import __main__\n__main__.ROOT = '/'\n__main__.REFUSED = frozenset()\n"
            f"open({str(guarded / 'a.txt')!r}, 'w').write('pwned')"
        ),
        # A path relative to a descriptor of a directory outside (the audit event has no dir_fd).
        "dir_fd": (
            f"import os, posix\nfd = os.open({str(guarded)!r}, os.O_RDONLY)\n"
            "posix.unlink('a.txt', dir_fd=fd)"
        ),
        # The module loaded anew; its call has no audit event in Python 3.11 (arguments as 3.11's).
        "reimport": (
            "import os, sys\ndel sys.modules['_posixsubprocess']\nimport _posixsubprocess\n"
            f"command = b'echo pwned > {guarded / 'a.txt'}'\nr, w = os.pipe()\n"
            "_posixsubprocess.fork_exec([b'/bin/sh', b'-c', command], [b'/bin/sh'], True, (), "
            "None, None, -1, -1, -1, -1, -1, -1, r, w, False, True, -1, None, None, None, -1, "
            "None, False)"
        ),
    }
    task, problem = "HumanEval/0", problems["HumanEval/0"]
    solution = problem["canonical_solution"]
    # Each attack follows a correct solution: had it gone unnoticed, the sample would pass.
    hostile = [
        {"task_id": task, "completion": f"{solution}\n\n{code}\n"} for code in attacks.values()
    ]
    honest = [
        {"task_id": t, "completion": problems[t]["canonical_solution"]}
        for t in ("HumanEval/1", "HumanEval/2", "HumanEval/3")
    ] + [{"task_id": "HumanEval/4", "completion": "    return 0.0\n"}]
    records, _ = score(hostile + honest, problems, limits=Limits(timeout=2.0), workers=2)

    for name, record in zip(attacks, records, strict=False):
        assert not record["passed"], f"{name}: {record['result']}"
        assert "s3cr3t" not in record["result"]
    assert [r["passed"] for r in records[len(attacks) :]] == [True, True, True, False]
    assert _digest(guarded) == before
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody got through
    listener.close()


def _skip_unless_the_kernel_allows(namespaces: str, flags: int) -> None:
    """Skip the test where a process may not unshare `flags` (the sandbox's layer is off)."""
    probe = f"import ctypes, sys\nsys.exit(ctypes.CDLL(None).unshare({flags}) != 0)"
    if subprocess.run([sys.executable, "-c", probe]).returncode:
        pytest.skip(f"this kernel refuses unprivileged {namespaces} namespaces: the layer is off")


def test_programs_run_alone_in_namespaces_of_their_own():
    _skip_unless_the_kernel_allows("user", 0x10000000)
    # Process 1 (whatever it starts dies with it), and no network interface but loopback.
    program = (
        "import os\nassert os.getpid() == 1, os.getpid()\n"
        "lines = open('/proc/net/dev').read().splitlines()[2:]\n"
        "assert [l.split(':')[0].strip() for l in lines] == ['lo'], lines\n"
        "open('mine.txt', 'w').write('its own directory is writable')"
    )
    outcome = run_program(program)
    assert outcome.passed, outcome.result


def test_the_kernel_leaves_a_program_no_writable_mount_but_its_directory():
    _skip_unless_the_kernel_allows("mount", 0x10000000 | 0x20000)
    # Whatever gets past the audit hook (a program can patch the os.path it relies on) meets
    # a read-only filesystem everywhere else.
    program = (
        "import os\nhere = os.getcwd()\n"
        "mounts = [line.split() for line in open('/proc/self/mountinfo')]\n"
        "writable = [m[4] for m in mounts if 'rw' in m[5].split(',')]\n"
        "assert writable == [here], (writable, here)"
    )
    outcome = run_program(program)
    assert outcome.passed, outcome.result


def test_job_scores_a_samples_file(problems, tmp_path):
    samples = tmp_path / "samples.jsonl"
    lines = [
        {"task_id": "HumanEval/0", "completion": problems["HumanEval/0"]["canonical_solution"]}
    ]
    lines += [{"task_id": "HumanEval/0", "completion": "    return False\n"}]
    lines += [{"task_id": "HumanEval/1", "completion": "    return []\n"}]  # past the limit
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    job = [sys.executable, str(ROOT / "jobs/human_eval.py"), "--samples", str(samples)]
    job += ["--output", str(tmp_path / "out"), "--limit-problems", "1"]
    subprocess.run(job, check=True, env=os.environ)
    table = json.loads((tmp_path / "out/pass_at_k.json").read_text())
    assert table["pass@1"] == 0.5 and table["samples"] == 2
    records = [
        json.loads(line) for line in (tmp_path / "out/samples.jsonl").read_text().splitlines()
    ]
    assert [r["passed"] for r in records] == [True, False]
    again = subprocess.run(job, env=os.environ, stderr=subprocess.PIPE, text=True)
    assert again.returncode == 2 and "already holds files: --overwrite" in again.stderr
    subprocess.run([*job, "--overwrite"], check=True, env=os.environ)
    # Problems without samples would make the mean another benchmark's; a misspelt task past
    # the limit is still a mistake.
    for limit, line, said in [
        ("2", {}, "has no samples for 1 of the 2 problems (HumanEval/1, ...)"),
        ("1", {"task_id": "HumanEval/9999", "completion": ""}, "unknown tasks: HumanEval/9999"),
    ]:
        samples.write_text("".join(json.dumps(x) + "\n" for x in [*lines[:2], line] if x))
        refused = subprocess.run(
            [*job[:-1], limit, "--overwrite"], env=os.environ, stderr=subprocess.PIPE, text=True
        )
        assert refused.returncode == 2 and said in refused.stderr.splitlines()[-1]


class _FakeModel:
    """What sample_completions uses of a model: its context, its device and generate()."""

    config = type("Config", (), {"n_positions": 1024})
    device = torch.device("cpu")

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def generate(self, input_ids, **options):
        self.calls.append(options)
        return torch.cat([input_ids, input_ids[:, -2:]], dim=1)


def test_sampling_has_no_top_k_cut_as_codeparrots(tokenizer_dir, problems):
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    model = _FakeModel()
    sample_completions(model, tokenizer, problems["HumanEval/0"], Sampling(2, 2), seed=0)
    (options,) = model.calls
    assert options["top_k"] == 0 and options["top_p"] == 0.95 and options["temperature"] == 0.2
