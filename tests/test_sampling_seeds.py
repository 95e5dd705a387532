"""Seeds from CSV and XLSX: every bad row located, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from consult.errors import ConsultError, ValidationFailed
from consult.sampling.codes import is_valid
from consult.sampling.seeds import add_seed, import_seeds, read_seeds
from consult.store import Store, fielding

LANGUAGES = ("en", "fr")


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_csv_imports_every_seed_with_a_code(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "seeds.csv", (
        "Name,E-mail,Organization,Country,Language\n"
        "Ana Lima,ana@example.org,DEPEN,Brazil,en\n"
        "\n"  # blank lines are skipped
        "Jean  Roy, JEAN@Example.org ,Service correctionnel,Canada,French\n"
        "Kofi Mensah,kofi@example.org,,GHA,\n"))
    added = import_seeds(store, path, languages=LANGUAGES)
    assert [(s.name, s.email, s.organisation, s.country_iso3, s.language, s.wave) for s in added] \
        == [("Ana Lima", "ana@example.org", "DEPEN", "BRA", "en", 0),
            ("Jean Roy", "jean@example.org", "Service correctionnel", "CAN", "fr", 0),
            ("Kofi Mensah", "kofi@example.org", None, "GHA", "en", 0)]
    assert all(is_valid(s.code) for s in added)
    assert store.counts()["referral_codes"] == 3


def test_semicolon_separated_csv_from_european_excel(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "seeds.csv", "name;email;country\nZoë Ñúñez;zoe@example.org;Spain\n")
    [(row, contact)] = read_seeds(path, languages=LANGUAGES)
    assert (row, contact.name, contact.country_iso3) == (2, "Zoë Ñúñez", "ESP")


def test_bad_rows_are_all_reported_with_file_row_and_column_and_nothing_is_written(
        store: Store, tmp_path: Path) -> None:
    add_seed(store, "Old Friend", "old@example.org", languages=LANGUAGES)
    before = store.dump()
    path = write_csv(tmp_path / "seeds.csv", (
        "name,email,organisation,country,language\n"
        "Ana Lima,ana@example.org,DEPEN,Brazil,en\n"
        ",jean@example.org,,Canada,fr\n"
        "Kofi Mensah,kofi(at)example.org,,Wakanda,de\n"
        "Ana Again,ANA@example.org,,,\n"
        "Old Friend,old@example.org,,,\n"))
    with pytest.raises(ValidationFailed) as caught:
        import_seeds(store, path, languages=LANGUAGES)
    assert str(caught.value) == (
        "seeds.csv: no seeds imported: 6 problem(s)\n"
        "  - seeds.csv (row 3, column name): empty; every contact needs a name\n"
        "  - seeds.csv (row 4, column email): 'kofi(at)example.org' is not an e-mail address\n"
        "  - seeds.csv (row 4, column country): 'Wakanda' is not a country consult recognises; "
        "write its name or ISO code, e.g. France or FRA\n"
        "  - seeds.csv (row 4, column language): 'de' is not a language of this consultation "
        "(en, fr)\n"
        "  - seeds.csv (row 5, column email): ana@example.org is also on row 2\n"
        "  - seeds.csv (row 6, column email): old@example.org is already a contact")
    assert store.dump() == before


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "seeds.csv", "Full name,Country\nAna Lima,Brazil\n")
    with pytest.raises(ValidationFailed) as caught:
        read_seeds(path, languages=LANGUAGES)
    assert str(caught.value) == (
        "seeds.csv: no seeds imported: 2 problem(s)\n"
        "  - seeds.csv (row 1): no 'name' column (the first row must name the columns name, "
        "email, organisation, country, language; found: Full name, Country)\n"
        "  - seeds.csv (row 1): no 'email' column (the first row must name the columns name, "
        "email, organisation, country, language; found: Full name, Country)")


def test_empty_files_and_wrong_formats(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_seeds(write_csv(tmp_path / "empty.csv", "\n\n"), languages=LANGUAGES)
    assert str(caught.value) == (
        "empty.csv: no seeds imported: 1 problem(s)\n"
        "  - empty.csv: the file is empty; its first row must name the columns name, email, "
        "organisation, country, language")
    with pytest.raises(ValidationFailed) as caught:
        read_seeds(write_csv(tmp_path / "header.csv", "name,email\n"), languages=LANGUAGES)
    assert str(caught.value).endswith("no seeds: the file has a header row and nothing else")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name,email\nZoë,zoe@example.org\n".encode("latin-1"))
    with pytest.raises(ConsultError) as caught:
        read_seeds(latin1, languages=LANGUAGES)
    assert str(caught.value) == ("latin1.csv is not UTF-8 text; save it from your spreadsheet as "
                                 "'CSV UTF-8' and import it again")
    with pytest.raises(ConsultError) as caught:
        read_seeds(write_csv(tmp_path / "seeds.json", "[]"), languages=LANGUAGES)
    assert str(caught.value) == "seeds.json: give the seeds as a .csv or .xlsx file"


def test_xlsx_rows_are_numbered_as_the_spreadsheet_shows_them(store: Store,
                                                              tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Email", "Organisation", "Country", "Language"])
    sheet.append(["Ana Lima", "ana@example.org", "DEPEN", "Brasil", "en"])
    sheet.append([None, None, None, None, None])
    sheet.append(["Jean Roy", "jean@", "CSC", "Canada", 42])
    path = tmp_path / "seeds.xlsx"
    book.save(path)
    with pytest.raises(ValidationFailed) as caught:
        import_seeds(store, path, languages=LANGUAGES)
    assert [str(i) for i in caught.value.issues] == [
        "seeds.xlsx (row 4, column email): 'jean@' is not an e-mail address",
        "seeds.xlsx (row 4, column language): '42' is not a language of this consultation "
        "(en, fr)"]
    assert store.counts()["contacts"] == 0
    sheet["B4"], sheet["E4"] = "jean@example.org", "fr"
    book.save(path)
    added = import_seeds(store, path, languages=LANGUAGES)
    assert [(s.name, s.country_iso3, s.language) for s in added] == [
        ("Ana Lima", "BRA", "en"), ("Jean Roy", "CAN", "fr")]


def test_add_seed_names_each_bad_field(store: Store) -> None:
    seed = add_seed(store, "Ana Lima", "ana@example.org", country="Brazil", languages=LANGUAGES)
    assert (seed.wave, seed.parent_code, seed.language) == (0, None, "en")
    assert fielding.find_code(store, seed.code) == seed
    with pytest.raises(ConsultError) as caught:
        add_seed(store, "Ana Lima", "Ana@Example.org", languages=LANGUAGES)
    assert str(caught.value) == "email: ana@example.org is already a contact"
    with pytest.raises(ConsultError) as caught:
        add_seed(store, " ", "", language="Klingon", languages=LANGUAGES)
    assert str(caught.value) == (
        "name: empty; every contact needs a name; email: empty; every contact needs an e-mail "
        "address; language: 'Klingon' is not a language of this consultation (en, fr)")
