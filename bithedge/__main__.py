from bithedge.cli import main

main()
