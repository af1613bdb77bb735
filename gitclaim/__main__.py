from gitclaim.cli import main

main()
