"""``python -m hrta.verify RUN_DIR``: a finished run against the shipped reference (hrta.pipeline.verify; kept so
the command stays short)."""

import sys

from hrta.pipeline.verify import main

if __name__ == "__main__":
    sys.exit(main())
