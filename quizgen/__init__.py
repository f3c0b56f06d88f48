"""Quiz tools: a generator of vocabulary quizzes from WordNet and CEFR word levels
(`python -m quizgen`) and an importer of quiz files into Firestore (`python -m quizgen.importer`)."""

from __future__ import annotations

import sys
from pathlib import Path

# The quiz domain lives in functions/ (deployed as the functions' own source root), so a
# command started from the repository root needs it on the path, as pytest and mypy have it.
_FUNCTIONS = str(Path(__file__).resolve().parent.parent / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.append(_FUNCTIONS)
