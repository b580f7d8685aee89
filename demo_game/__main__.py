from demo_game.cli import main

main()
