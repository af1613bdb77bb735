"""gitclaim: missions on refs/missions/<id>, claimed by compare-and-swap pushes to a shared git remote."""

__version__ = "0.1.0"
