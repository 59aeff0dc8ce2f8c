from bench.actions.run import main

raise SystemExit(main())
