"""Ready-made models of the course, built from ``minigen.nn``."""
from minigen.models.autoencoders import CVAE, VAE, Autoencoder
from minigen.models.classifier import DigitClassifier
from minigen.models.cyclegan import CycleGAN, PatchDiscriminator, ResnetGenerator
from minigen.models.energy import EnergyNet
from minigen.models.gated_pixelcnn import GatedPixelCNN
from minigen.models.gans import (ConditionalDiscriminator, ConditionalGenerator, Critic,
                                 Discriminator, Generator, MLPDiscriminator, MLPGenerator)
from minigen.models.pixelcnn import PixelCNN
from minigen.models.realnvp import RealNVP
from minigen.models.unet import UNet
from minigen.models.vqvae import VQVAE, VectorQuantizer

__all__ = ["Autoencoder", "CVAE", "ConditionalDiscriminator", "ConditionalGenerator", "Critic",
           "CycleGAN", "DigitClassifier", "Discriminator", "EnergyNet", "GatedPixelCNN", "Generator", "MLPDiscriminator",
           "MLPGenerator", "PatchDiscriminator", "PixelCNN", "RealNVP", "ResnetGenerator", "UNet", "VAE", "VQVAE",
           "VectorQuantizer"]
