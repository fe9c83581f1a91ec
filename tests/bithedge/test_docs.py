"""The README's configuration table must match the settings object."""

from __future__ import annotations

from bithedge.settings import Settings, env_name
from tests.conftest import REPO


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for name in Settings.model_fields:
        env = env_name(name)
        assert f"| `{env}` |" in readme, f"{env} is missing from the README configuration table"


def test_ci_runs_the_readme_test_command_and_nothing_else() -> None:
    assert "make test" in (REPO / "README.md").read_text()
    lines = [ln for ln in (REPO / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines[-1] == "exec make test"
