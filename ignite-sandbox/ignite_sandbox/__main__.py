"""`python -m ignite_sandbox serve ...`."""

from ignite_sandbox.cli import main

raise SystemExit(main())
