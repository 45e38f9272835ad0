from slbsync.cli.app import main

main()
