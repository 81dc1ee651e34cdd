"""``python -m hrta.plan CONFIG``: the plan of a run (hrta.pipeline.plan; kept so the command stays short)."""

import sys

from hrta.pipeline.plan import main

if __name__ == "__main__":
    sys.exit(main())
