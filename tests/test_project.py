"""The project folder: ``consult init``, finding the project, settings, the database URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from consult.cli.main import app
from consult.errors import ConsultError, ProjectNotFoundError, SettingsError
from consult.project import DATABASE_ENV, init_project, load_project
from consult.store import migrations, open_store

R361 = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"
MINIMAL_SETTINGS = '[project]\ntitle = "A consultation"\n'

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_database_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # A CONSULT_DATABASE_URL in the developer's shell must not redirect these tests.
    monkeypatch.delenv(DATABASE_ENV, raising=False)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    root = tmp_path / "consultation"
    init_project(root)
    return root


def test_init_creates_the_project(tmp_path: Path) -> None:
    project = init_project(tmp_path / "consultation")
    root = tmp_path / "consultation"
    assert project.root == root.resolve()
    assert (root / "consult.toml").is_file()
    assert (root / "questionnaire.yaml").read_bytes() == R361.read_bytes()
    assert project.questionnaire_path == root / "questionnaire.yaml"
    for folder in ("mapping", "templates", "out", ".consult", "text"):
        assert (root / folder).is_dir(), folder
    assert yaml.safe_load((root / "themes.yaml").read_text(encoding="utf-8")) == {"themes": []}
    assert project.database_url == f"sqlite:///{root / 'consult.db'}"
    with open_store(project.database_url, migrate=False) as store:
        assert store.schema_version() == migrations.LATEST
    # The file init wrote reads back as the settings init meant.
    assert load_project(explicit=root).settings == project.settings
    assert project.settings.project.languages == ["en", "fr"]


def test_load_project_walks_up(project_dir: Path) -> None:
    deep = project_dir / "out" / "figures"
    deep.mkdir()
    assert load_project(start=deep).root == project_dir.resolve()


def test_load_project_outside_a_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFoundError) as caught:
        load_project(start=tmp_path)
    assert str(caught.value) == (
        f"no consult.toml in {tmp_path.resolve()} or any folder above it; run the command "
        "inside a project, pass --project DIR, or create one with: consult init DIR"
    )


def test_explicit_folder_without_settings(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFoundError) as caught:
        load_project(explicit=tmp_path)
    assert str(caught.value) == (
        f"{tmp_path.resolve()} is not a consult project (no consult.toml); "
        f"create one with: consult init {tmp_path}"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL_SETTINGS + "[disclosure]\nthreshold = 0\n",
         "[disclosure] threshold: Input should be greater than or equal to 1 (got 0)"),
        ('[project]\ntitel = "A consultation"\n',
         "missing setting [project] title; unknown setting [project] titel"),
        (MINIMAL_SETTINGS + "[regions]\nschema = 'un'\n", "unknown setting [regions] schema"),
        ("title: A consultation\n",
         "not valid TOML: Expected '=' after a key in a key/value pair (at line 1, column 6)"),
    ],
    ids=["threshold-0", "misspelt-key", "unknown-key", "not-toml"],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    settings = tmp_path / "consult.toml"
    settings.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_project(start=tmp_path)
    assert str(caught.value) == f"{settings}: {message}"


def without_line(settings: Path, start: str) -> None:
    text = settings.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines(keepends=True) if not line.startswith(start)]
    assert len(kept) == len(text.splitlines()) - 1
    settings.write_text("".join(kept), encoding="utf-8")


def test_title_and_languages_default_to_the_questionnaires(project_dir: Path) -> None:
    settings = project_dir / "consult.toml"
    without_line(settings, "title = ")
    without_line(settings, "languages = ")
    project = load_project(explicit=project_dir).settings.project
    assert project.title == ("International Consultation on the Management of Radicalized "
                             "Offenders")
    assert project.languages == ["en", "fr"]
    # The title follows the first of the project's languages.
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "[project]\n", '[project]\nlanguages = ["fr"]\n'), encoding="utf-8")
    assert load_project(explicit=project_dir).settings.project.title == (
        "Consultation internationale sur la gestion des délinquants radicalisés")


def test_a_language_the_questionnaire_lacks_is_an_error(project_dir: Path) -> None:
    settings = project_dir / "consult.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace('languages = ["en", "fr"]', 'languages = ["en", "de"]'),
                        encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_project(explicit=project_dir)
    assert str(caught.value) == (
        f"{settings.resolve()}: [project] languages: 'de' is not a language of "
        'questionnaire.yaml, which is written in en, fr; write languages = ["en", "fr"] or a '
        "part of it")


def test_an_unreadable_questionnaire_leaves_the_settings_to_their_defaults(
        project_dir: Path) -> None:
    (project_dir / "questionnaire.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    assert load_project(explicit=project_dir).settings.project.languages == ["en", "fr"]
    without_line(project_dir / "consult.toml", "languages = ")
    assert load_project(explicit=project_dir).settings.project.languages == ["en"]


def test_environment_overrides_database_url(project_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv(DATABASE_ENV, elsewhere)
    assert load_project(explicit=project_dir).database_url == elsewhere


def test_relative_sqlite_url_is_relative_to_the_project(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "consultation"
    (root / "sub").mkdir(parents=True)
    (root / "consult.toml").write_text(
        MINIMAL_SETTINGS + '[database]\nurl = "sqlite:///data/responses.db"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the project root: the URL must not follow the cwd
    project = load_project(start=root / "sub")
    assert project.database_url == f"sqlite:///{root.resolve() / 'data' / 'responses.db'}"


def test_init_refuses_an_existing_project(project_dir: Path) -> None:
    before = (project_dir / "consult.toml").read_bytes()
    with pytest.raises(ConsultError) as caught:
        init_project(project_dir)
    assert str(caught.value) == (
        f"{project_dir.resolve()} already holds a consult project (consult.toml exists)"
    )
    assert (project_dir / "consult.toml").read_bytes() == before


def test_init_with_unknown_questionnaire_lists_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(ConsultError) as caught:
        init_project(tmp_path / "consultation", questionnaire="r999")
    assert str(caught.value) == (
        "--questionnaire 'r999': no such file and no shipped questionnaire of that name "
        "(shipped: r361)"
    )
    assert not (tmp_path / "consultation").exists()


# --------------------------------------------------------------------------- the CLI


def test_cli_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "consultation"])
    root = (tmp_path / "consultation").resolve()
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Created project {root}\n"
        f"  settings       {root / 'consult.toml'}\n"
        f"  questionnaire  {root / 'questionnaire.yaml'}\n"
        f"  database       sqlite:///{root / 'consult.db'}\n"
        "Next: cd consultation && consult questionnaire show\n"
    )
    assert load_project(explicit=root).settings.project.title.startswith("International")


def test_cli_init_twice(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", str(tmp_path / "c")]).exit_code == 0
    result = runner.invoke(app, ["init", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {(tmp_path / 'c').resolve()} already holds a consult project "
        "(consult.toml exists)\n"
    )


def test_cli_db_info_json(project_dir: Path) -> None:
    result = runner.invoke(app, ["--project", str(project_dir), "db", "info", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["schema_version"] == migrations.LATEST
    assert info["dialect"] == "sqlite"
    assert info["url"] == f"sqlite:///{project_dir.resolve() / 'consult.db'}"
    assert set(info["rows"].values()) == {0}


@pytest.mark.postgres
def test_cli_db_info_on_postgresql_from_environment(project_dir: Path, pg_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_ENV, pg_url)
    result = runner.invoke(app, ["--project", str(project_dir), "db", "info", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert (info["dialect"], info["url"]) == ("postgresql", pg_url)
    assert info["schema_version"] == migrations.LATEST


def test_cli_db_info_outside_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["db", "info"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no consult.toml in {tmp_path.resolve()} or any folder above it; run the "
        "command inside a project, pass --project DIR, or create one with: consult init DIR\n"
    )


@pytest.mark.parametrize("command", [["init"], ["db", "info"], ["db"], ["questionnaire"],
                                     ["seeds"], ["wave"], ["nominations"], ["export"],
                                     ["results"], ["themes"]], ids=" ".join)
def test_cli_help_has_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: consult " + " ".join(command) in result.stdout


def test_db_help_promises_no_upgrade_command() -> None:
    result = runner.invoke(app, ["db", "--help"])
    assert "upgrade" not in result.stdout
    assert "pending schema migration" in " ".join(result.stdout.split())


def test_cli_project_folder_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = runner.invoke(app, ["--project", str(missing), "db", "info"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: --project {missing}: no such folder ({missing.resolve()}); give the folder of "
        f"an existing project, or create one with: consult init {missing}\n")
    assert not missing.exists()


def test_cli_synth_refuses_a_name_that_hides_the_format(project_dir: Path) -> None:
    target = project_dir / "x.csv"
    result = runner.invoke(app, ["--project", str(project_dir), "synth", "-n", "5",
                                 "--format", "xlsx", "-o", str(target)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: -o {target}: --format xlsx writes a .xlsx file; name it "
        f"{target.with_suffix('.xlsx')}, or a --format that writes .csv: canonical, qualtrics, "
        "qualtrics-legacy, surveymonkey, kobo, odk, limesurvey\n")
    assert not target.exists()
