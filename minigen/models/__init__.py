"""Ready-made models of the course, built from ``minigen.nn``."""
from minigen.models.autoencoders import CVAE, VAE, Autoencoder
from minigen.models.classifier import DigitClassifier

__all__ = ["Autoencoder", "CVAE", "DigitClassifier", "VAE"]
