"""hubship: push-to-production for scikit-learn models.

Train, gate, publish one atomic tagged release to a Hugging Face Hub model repo, deploy,
and prove production serves it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
