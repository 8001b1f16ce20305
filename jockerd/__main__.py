"""`python -m jockerd` starts the daemon."""

from jockerd.server import main

raise SystemExit(main())
