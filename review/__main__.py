"""`python -m review …`: see `review.cli`."""

import sys

from review.missing import missing_package_line

try:
    from review.cli import main
except ModuleNotFoundError as error:  # the wrong Python: "could not check" (2), never 1 (drift)
    sys.stderr.write(missing_package_line(error.name))
    sys.exit(2)  # review.cli.ERROR, which could not be imported

sys.exit(main())
