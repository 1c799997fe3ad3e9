"""``python -m medbill.x12`` is the ``medbill-x12`` command."""

from medbill.x12.cli import main

raise SystemExit(main())
