"""`python -m trainee.cli ...` is `trainee ...`."""

import sys

from trainee.cli import main

sys.exit(main())
