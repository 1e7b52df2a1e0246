from powerdialer.cli import main

main()
