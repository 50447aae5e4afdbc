"""python -m tinygrad_ko: the same as the tinygrad-ko command."""

from tinygrad_ko.cli import main

raise SystemExit(main())
