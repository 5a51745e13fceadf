"""DESIGN.md convention 1: ``kefu.domain`` imports no framework, database or web code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "kefu" / "domain"

#: top-level packages the domain must not touch (frameworks, databases, web, I/O clients)
FORBIDDEN_PACKAGES = frozenset({
    "fastapi", "starlette", "pydantic", "pydantic_settings", "sqlalchemy", "alembic", "psycopg",
    "psycopg2", "sqlite3", "jinja2", "typer", "click", "uvicorn", "httpx", "requests", "redis",
    "dramatiq", "celery", "babel", "argon2", "multipart", "PIL", "smtplib", "socket", "subprocess",
})
#: kefu layers above the domain
FORBIDDEN_KEFU = ("kefu.adapters", "kefu.services", "kefu.web", "kefu.cli", "kefu.config", "kefu.bootstrap")


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every absolute module an AST imports, with its line (relative imports stay in the domain)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def violations(source: str) -> list[str]:
    bad = []
    for line, module in imported_modules(ast.parse(source)):
        root = module.split(".")[0]
        if root in FORBIDDEN_PACKAGES or module.startswith(FORBIDDEN_KEFU):
            bad.append(f"line {line}: {module}")
    return bad


def domain_files() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_the_domain_package_has_modules() -> None:
    assert len(domain_files()) >= 3, "the domain folder was not found or is empty"


@pytest.mark.parametrize("path", domain_files(), ids=lambda p: str(p.relative_to(DOMAIN)))
def test_domain_module_imports_no_framework_database_or_web_code(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source", [
    "import sqlalchemy",
    "from fastapi import APIRouter",
    "from kefu.adapters.db.base import Base",
    "from kefu.services.uow import Database",
    "def f():\n    import jinja2\n",
    "from pydantic import BaseModel",
])
def test_the_check_catches_forbidden_imports(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize("source", [
    "from decimal import Decimal",
    "from kefu.domain.money import to_cents",
    "from . import model",
])
def test_the_check_allows_the_standard_library_and_the_domain(source: str) -> None:
    assert violations(source) == []
