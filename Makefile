# Entry points. Each target prepares the locked environment first (scripts/bootstrap.sh is idempotent).
.PHONY: audit preview compare test lint bootstrap clean

bootstrap:
	@scripts/bootstrap.sh

## The main job: audit every stack in stacks/ offline; reports in reports/ (JUnit, SARIF, HTML, JSON, checkov)
audit: bootstrap
	uv run --frozen python scripts/audit.py --out reports

## The comparison for ministries: full report and one-page summary, English and French, HTML and PDF
## (reports/compare/{compare,summary}{,.fr}.{html,pdf}); weights in data/facts/weights.yaml
compare: bootstrap
	uv run --frozen python scripts/compare.py --out reports/compare

## Offline preview of every stack in stacks/ (Pulumi program under mocks: no cloud account, no CLI)
preview: bootstrap
	uv run --frozen python scripts/preview.py --json reports/preview

## ruff, mypy, then pytest
test: bootstrap lint
	uv run --frozen pytest

lint:
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .
	uv run --frozen mypy .

clean:
	rm -rf reports .pytest_cache .mypy_cache .ruff_cache
