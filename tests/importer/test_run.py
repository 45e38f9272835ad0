"""import_spec asks the target for its importer; one without is refused."""

from __future__ import annotations

import pytest

from slbsync.errors import SlbsyncError
from slbsync.importer.run import ImportFilters, import_spec
from slbsync.spec.model import TargetSpec


def test_target_without_an_importer_is_refused_by_type(tmp_path):
    spec = TargetSpec(
        name="edge", type="nginx", options=(("config_path", str(tmp_path / "n")),)
    )

    with pytest.raises(SlbsyncError) as caught:
        import_spec(spec, ImportFilters(), lock_dir=tmp_path)

    assert str(caught.value) == "import cannot read nginx targets"
    assert list(tmp_path.iterdir()) == []  # nothing read, nothing written
