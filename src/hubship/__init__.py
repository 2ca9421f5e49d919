"""hubship: push-to-production for scikit-learn models.

Train, gate, publish one atomic tagged release to a Hugging Face Hub model repo, deploy,
and prove production serves it.
"""

from hubship.hub_progress import silence_hub_progress_bars
from hubship.local_hub_client import prefer_lfs_for_a_local_hub

__version__ = "0.1.0"

__all__ = ["__version__"]

# Every hubship process (CLI, backend, scripts) imports this package before huggingface_hub:
# the one place where a client aimed at the embedded hub can still be told to skip Xet.
prefer_lfs_for_a_local_hub()
silence_hub_progress_bars()
