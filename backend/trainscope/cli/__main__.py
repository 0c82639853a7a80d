from trainscope.cli import main

main()
