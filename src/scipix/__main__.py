"""``python -m scipix`` runs the command line."""

from scipix.cli import main

if __name__ == "__main__":
    main()
