PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean derivations docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	if [ "$$CI" = true ]; then $(BIN)/python -m pip install --quiet -e '.[test,torch,docs,browser,optax,certify,flint]'; fi
	touch $(STAMP)

run: $(STAMP)
	mkdir -p build
	$(BIN)/symdyn analyze heavy-ball --latex build/heavy-ball.tex --markdown build/heavy-ball.md --plot build/heavy-ball.png \
		$(if $(shell command -v pdflatex),--pdf build/heavy-ball.pdf)
	@echo "make run wrote build/heavy-ball.{tex,md,png}$(if $(shell command -v pdflatex), and build/heavy-ball.pdf)."
	@echo "Open $(if $(shell command -v pdflatex),build/heavy-ball.pdf,build/heavy-ball.md) first (the derivation), then build/heavy-ball.png (the stability region)."

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile symdyn tests

lint: $(STAMP)
	$(BIN)/ruff check symdyn tests benchmarks
	$(BIN)/ruff format --check symdyn tests benchmarks

bench: $(STAMP)
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

derivations: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python derivations/build.py

docs: $(STAMP)
	$(BIN)/python -c "import sphinx, myst_parser, furo" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/sphinx-build -W --keep-going -q -b html docs build/docs
	@echo "built build/docs/index.html"

clean:
	rm -rf build .venv .pytest_cache .hypothesis
