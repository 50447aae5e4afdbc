"""The book's own code (../shared/book/ beside the repository) as reference material for tests:
its modules imported from where they are, never copied. Tests that use it are marked `book`."""

import importlib.util
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parents[2] / "shared" / "book"


def book_module(path):
    """The book's module at `path` (relative to the book's folder, e.g. "common/optimizer.py"),
    imported with the book's folder on sys.path, as its scripts expect."""
    name = "book." + path.removesuffix(".py").replace("/", ".")
    if name in sys.modules:
        return sys.modules[name]
    if str(BOOK) not in sys.path:
        sys.path.append(str(BOOK))
    spec = importlib.util.spec_from_file_location(name, BOOK / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
