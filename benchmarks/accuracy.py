"""Recognizer accuracy benchmark; see ``scipix.bench`` (also ``scipix bench``).

python benchmarks/accuracy.py [--n 1000] [--dpis 100,150,300] [--write-docs]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from scipix.bench import main

if __name__ == "__main__":
    main()
