# Entry points. Each target prepares the locked environment first (scripts/bootstrap.sh is idempotent).
.PHONY: preview test lint bootstrap clean

bootstrap:
	@scripts/bootstrap.sh

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
