from graphport.cli import main

main()
