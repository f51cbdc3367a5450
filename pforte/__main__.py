"""`python -m pforte` is the same as the `pforte` command."""

from pforte.cli import main

if __name__ == "__main__":
    main()
