from hardener.cli import console

raise SystemExit(console())
