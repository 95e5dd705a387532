# consult: `make demo` and `make test` set everything up from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := demo
FIELDING := demo-fielding

.PHONY: demo serve-demo test lint typecheck unit bench clean

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
	cd $(DEMO) && ../$(BIN)/consult themes fit
	cd $(DEMO) && ../$(BIN)/consult themes show --best-practices --top 5
	cd $(DEMO) && ../$(BIN)/consult report --format all --lang all --document all
	cd $(DEMO) && ../$(BIN)/consult questionnaire export --format markdown
	cd $(DEMO) && ../$(BIN)/consult db info
	@echo
	@echo "== A rehearsed snowball fielding: seeds, invitations, three waves of responses, status"
	rm -rf $(FIELDING)
	$(BIN)/consult init $(FIELDING) --title "Snowball fielding rehearsal (demo)"
	cd $(FIELDING) && ../$(BIN)/consult synth --seed-contacts 24 --output synthetic/seeds.csv
	cd $(FIELDING) && ../$(BIN)/consult seeds import synthetic/seeds.csv
	cd $(FIELDING) && ../$(BIN)/consult wave open 0
	cd $(FIELDING) && ../$(BIN)/consult invite --wave 0 --outbox out/outbox
	for wave in 0 1 2; do \
	  (cd $(FIELDING) && ../$(BIN)/consult synth --respond-wave $$wave --format qualtrics --output synthetic/wave$$wave.csv \
	    && ../$(BIN)/consult ingest synthetic/wave$$wave.csv --accept-mapping --mapping qualtrics) || exit 1; \
	  if [ $$wave -lt 2 ]; then \
	    (cd $(FIELDING) && ../$(BIN)/consult wave open $$((wave + 1)) && ../$(BIN)/consult invite --wave $$((wave + 1)) --outbox out/outbox) || exit 1; \
	  fi; \
	done
	cd $(FIELDING) && ../$(BIN)/consult status
	cd $(FIELDING) && ../$(BIN)/consult export rds --output out/rds.csv
	cd $(FIELDING) && ../$(BIN)/consult analyze
	cd $(FIELDING) && ../$(BIN)/consult report --format html --lang all --document full
	@echo
	@echo "Demo consultation: $(CURDIR)/$(DEMO)"
	@echo "  synthetic export:  $(CURDIR)/$(DEMO)/synthetic/qualtrics.csv (Qualtrics layout)"
	@echo "  column mapping:    $(CURDIR)/$(DEMO)/mapping/qualtrics.yaml"
	@echo "  database:          $(CURDIR)/$(DEMO)/consult.db"
	@echo "  results:           $(CURDIR)/$(DEMO)/out/results.json"
	@echo "  themes:            $(CURDIR)/$(DEMO)/out/themes.csv (consult themes show)"
	@echo "  curated themes:    $(CURDIR)/$(DEMO)/themes.yaml (edit it, then consult themes fit)"
	@echo "  glance page:       $(CURDIR)/$(DEMO)/out/report/glance.en.html and .pdf (and .fr)"
	@echo "  full report:       $(CURDIR)/$(DEMO)/out/report/full.en.html and .pdf (and .fr)"
	@echo "  questionnaire:     $(CURDIR)/$(DEMO)/out/questionnaire.md"
	@echo "Fielding rehearsal: $(CURDIR)/$(FIELDING)"
	@echo "  invitations:       $(CURDIR)/$(FIELDING)/out/outbox/*.eml"
	@echo "  referral table:    $(CURDIR)/$(FIELDING)/out/rds.csv (for R's RDS package)"
	@echo "  chains report:     $(CURDIR)/$(FIELDING)/out/report/full.en.html (Method, Referral chains; and .fr)"
	@echo "Try the web form:   make serve-demo (prints a personal link to open)"

# The web form on the rehearsal project (after make demo); Ctrl-C stops it.
# It prints a personal link to open; another port: make serve-demo PORT=8001.
PORT ?= 8000
serve-demo: $(STAMP)
	test -d $(FIELDING) || $(MAKE) demo
	cd $(FIELDING) && ../$(BIN)/consult wave open 3 >/dev/null 2>&1 || true
	cd $(FIELDING) && ../$(BIN)/consult serve --insecure-cookies --port $(PORT)

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
	rm -rf $(VENV) $(DEMO) $(FIELDING) .pytest_cache .mypy_cache .ruff_cache
