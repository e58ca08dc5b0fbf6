"""ctresist: resistance to targeted therapy in lung cancer, from tissue or plasma (ctDNA) calls."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ctresist")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
