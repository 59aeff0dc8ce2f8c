from bench.delivery.run import main

raise SystemExit(main())
