# consult: `make demo` and `make test` set everything up from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := demo

.PHONY: demo test lint typecheck unit bench clean

# The environment: created when missing, refreshed when the dependencies change.
# constraints.txt pins the exact versions, so every install is the same.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/consult init $(DEMO) --title "International Consultation: Best Practices in the Management of Radicalized Offenders (demo)"
	cd $(DEMO) && ../$(BIN)/consult questionnaire check
	cd $(DEMO) && ../$(BIN)/consult synth --respondents 81 --seed 2014 --associate int_same_procedures:region:0.5 --format qualtrics --output synthetic/qualtrics.csv
	cd $(DEMO) && ../$(BIN)/consult ingest synthetic/qualtrics.csv --accept-mapping
	cd $(DEMO) && ../$(BIN)/consult analyze
	cd $(DEMO) && ../$(BIN)/consult results show sample
	cd $(DEMO) && ../$(BIN)/consult questionnaire export --format markdown
	cd $(DEMO) && ../$(BIN)/consult db info
	@echo
	@echo "Demo consultation: $(CURDIR)/$(DEMO)"
	@echo "  synthetic export:  $(CURDIR)/$(DEMO)/synthetic/qualtrics.csv (Qualtrics layout)"
	@echo "  column mapping:    $(CURDIR)/$(DEMO)/mapping/qualtrics.yaml"
	@echo "  database:          $(CURDIR)/$(DEMO)/consult.db"
	@echo "  results:           $(CURDIR)/$(DEMO)/out/results.json"
	@echo "  questionnaire:     $(CURDIR)/$(DEMO)/out/questionnaire.md"

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check consult tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy consult

unit: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
