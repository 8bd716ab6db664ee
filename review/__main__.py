"""`python -m review …`: see `review.cli`."""

import sys

from review.cli import main

sys.exit(main())
