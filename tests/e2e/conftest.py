from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import EmulatorProcess


@pytest.fixture(scope="module")
def emulator_process(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmulatorProcess]:
    state = tmp_path_factory.mktemp("emulator") / "state.json"
    process = EmulatorProcess(state)
    yield process
    process.stop()


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    emulator_process.reset()
    emulator_process.set_faults()
    return emulator_process


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    return tmp_path / "specs"
