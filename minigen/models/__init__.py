"""Ready-made models of the course, built from ``minigen.nn``."""
from minigen.models.classifier import DigitClassifier

__all__ = ["DigitClassifier"]
