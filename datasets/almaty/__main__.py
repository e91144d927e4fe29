"""``python -m datasets.almaty build --out FILE``: see :mod:`datasets.almaty.command`."""

from datasets.almaty.command import main

raise SystemExit(main())
