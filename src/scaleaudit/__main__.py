"""`python -m scaleaudit`."""

from scaleaudit.cli import main

main()
