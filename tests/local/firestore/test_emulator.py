"""The Firestore emulator launcher, exercised through the real google-cloud-firestore client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.api_core import exceptions

from local.firestore import ExternalFirestoreEmulator, FirestoreEmulator, LauncherRequired
from local.firestore.emulator import require_emulator_package
from tests.support.net import listening_addresses
from tests.support.processes import group_is_empty, log_path, pid_alive, start_process

UNAVAILABLE, INTERNAL, FAILED_PRECONDITION = 14, 13, 9


def wait_until_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def db(launcher_emulator, firestore_project):
    return launcher_emulator.client(firestore_project)


def test_set_then_get_round_trips_a_document(firestore_emulator, firestore_project):
    doc = firestore_emulator.client(firestore_project).collection("stripe_customers").document("u1")
    doc.set({"stripe_customer_id": "cus_1", "generation": 0, "livemode": False})
    assert doc.get().to_dict() == {
        "stripe_customer_id": "cus_1",
        "generation": 0,
        "livemode": False,
    }


def test_missing_document_reads_as_not_existing(firestore_emulator, firestore_project):
    doc = firestore_emulator.client(firestore_project).collection("c").document("nobody")
    assert doc.get().exists is False


def test_second_create_of_a_document_raises_already_exists(firestore_emulator, firestore_project):
    doc = firestore_emulator.client(firestore_project).collection("c").document("u1")
    doc.create({"stripe_customer_id": "cus_first"})
    with pytest.raises(exceptions.AlreadyExists):
        doc.create({"stripe_customer_id": "cus_second"})
    assert doc.get().get("stripe_customer_id") == "cus_first"


def test_update_changes_only_the_given_fields(firestore_emulator, firestore_project):
    doc = firestore_emulator.client(firestore_project).collection("c").document("u1")
    doc.create({"stripe_customer_id": "cus_1", "generation": 0})
    doc.update({"stripe_customer_id": "cus_2", "generation": 1})
    assert doc.get().to_dict() == {"stripe_customer_id": "cus_2", "generation": 1}


def test_update_of_a_missing_document_raises_not_found(firestore_emulator, firestore_project):
    doc = firestore_emulator.client(firestore_project).collection("c").document("nobody")
    with pytest.raises(exceptions.NotFound):
        doc.update({"generation": 1})


def test_stats_count_grpc_calls_by_method(db, launcher_emulator):
    doc = db.collection("c").document("u1")
    doc.get()
    doc.create({"a": 1})
    doc.get()
    stats = launcher_emulator.stats()
    assert stats["BatchGetDocuments"] == 2
    assert stats["Commit"] == 1


def test_reset_clears_documents_and_counts(db, launcher_emulator, firestore_project):
    db.collection("c").document("u1").set({"a": 1})
    launcher_emulator.reset()
    assert launcher_emulator.stats() == {}
    assert launcher_emulator.documents(firestore_project)["projects"][firestore_project] is None
    assert db.collection("c").document("u1").get().exists is False


def test_documents_dump_shows_written_fields(db, launcher_emulator, firestore_project):
    db.collection("c").document("u1").set({"stripe_customer_id": "cus_1"})
    dump = launcher_emulator.documents(firestore_project)
    documents = dump["projects"][firestore_project]["databases"]["(default)"]["collections"]["c"]
    assert documents["documents"]["u1"]["fields"]["stripe_customer_id"]["value"] == "cus_1"


def test_injected_non_retried_commit_failure_surfaces_in_the_client(db, launcher_emulator):
    launcher_emulator.fail_next("Commit", count=1, code=INTERNAL)
    with pytest.raises(exceptions.InternalServerError):
        db.collection("c").document("u1").create({"a": 1})
    assert db.collection("c").document("u1").get().exists is False


def test_injected_unavailable_commit_surfaces_without_client_retry(db, launcher_emulator):
    launcher_emulator.fail_next("Commit", count=1, code=UNAVAILABLE)
    with pytest.raises(exceptions.ServiceUnavailable):
        db.collection("c").document("u1").create({"a": 1}, retry=None)


def test_injected_unavailable_commit_is_retried_by_the_client_default(db, launcher_emulator):
    launcher_emulator.fail_next("Commit", count=1, code=UNAVAILABLE)
    db.collection("c").document("u1").create({"a": 1})
    assert launcher_emulator.stats()["Commit"] == 2


def test_injected_failure_of_a_streaming_read_surfaces(db, launcher_emulator):
    launcher_emulator.fail_next("BatchGetDocuments", count=1, code=FAILED_PRECONDITION)
    with pytest.raises(exceptions.FailedPrecondition):
        db.collection("c").document("u1").get()


def test_unimplemented_method_answers_unimplemented_and_the_emulator_survives(
    db, launcher_emulator
):
    with pytest.raises(exceptions.MethodNotImplemented):
        list(db.collection("c").list_documents())
    db.collection("c").document("u1").set({"a": 1})


def test_launcher_listens_on_loopback_only(launcher_emulator):
    grpc_port = int(launcher_emulator.host.rsplit(":", 1)[1])
    control_port = int(launcher_emulator.control_url.rsplit(":", 1)[1])
    assert listening_addresses(grpc_port) == {"127.0.0.1"}
    assert listening_addresses(control_port) == {"127.0.0.1"}


def test_stop_leaves_no_process_behind():
    emulator = FirestoreEmulator.start(log_path=log_path("firestore-stop"))
    pid = emulator.process.pid
    emulator.stop()
    assert not pid_alive(pid)
    assert group_is_empty(pid)


def test_launcher_exits_when_its_stdin_closes():
    emulator = FirestoreEmulator.start(log_path=log_path("firestore-stdin"))
    try:
        emulator.process.close_stdin()
        assert emulator.process.wait(timeout=5) == 0
        assert "stdin closed" in emulator.process.log_text()
    finally:
        emulator.stop()


def test_launcher_exits_when_its_parent_is_killed():
    owner = start_process(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from local.firestore import FirestoreEmulator\n"
            "emulator = FirestoreEmulator.start()\n"
            "print('EMULATOR', emulator.process.pid, flush=True)\n"
            "time.sleep(60)\n",
        ],
        name="firestore-owner",
        ready_pattern=r"EMULATOR (\d+)",
    )
    assert owner.ready_match is not None
    emulator_pid = int(owner.ready_match[1])
    try:
        os.kill(owner.pid, signal.SIGKILL)  # no cleanup runs in the owner
        assert wait_until_gone(emulator_pid), "the emulator outlived its killed owner"
    finally:
        owner.stop()
        if pid_alive(emulator_pid):
            os.killpg(emulator_pid, signal.SIGKILL)


def test_launcher_exits_on_sigterm_with_status_zero():
    emulator = FirestoreEmulator.start(log_path=log_path("firestore-sigterm"))
    try:
        os.kill(emulator.process.pid, signal.SIGTERM)
        assert emulator.process.wait(timeout=5) == 0
    finally:
        emulator.stop()


def test_external_emulator_handle_explains_that_control_needs_the_launcher():
    external = ExternalFirestoreEmulator("127.0.0.1:8080")
    for call in (external.reset, external.stats, lambda: external.fail_next("Commit")):
        with pytest.raises(LauncherRequired, match="launcher"):
            call()
    assert isinstance(LauncherRequired("x"), NotImplementedError)


def test_environment_variable_selects_the_external_emulator(monkeypatch):
    from local.firestore import emulator_from_environment

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
    assert emulator_from_environment().host == "127.0.0.1:8080"
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST")
    assert emulator_from_environment() is None


def test_missing_node_package_tells_to_run_make_setup(tmp_path: Path):
    with pytest.raises(RuntimeError, match="make setup"):
        require_emulator_package(tmp_path)


def test_launcher_runs_standalone_and_prints_one_ready_line():
    result = subprocess.run(
        ["node", str(Path("local/firestore/launcher.mjs")), "--port", "0"],
        input="",  # stdin closes at once: the launcher starts, reports ready, then exits
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("READY grpc=127.0.0.1:"), result.stdout
    assert result.returncode == 0, result.stderr
