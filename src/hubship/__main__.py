from hubship.cli import main

main()
