from alertd.cli.main import main

__all__ = ["main"]
