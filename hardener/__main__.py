from hardener.cli import main

raise SystemExit(main())
