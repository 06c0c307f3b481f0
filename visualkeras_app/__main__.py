from visualkeras_app.cli import main

raise SystemExit(main())
