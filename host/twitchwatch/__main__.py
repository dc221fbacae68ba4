from twitchwatch.cli import main

raise SystemExit(main())
