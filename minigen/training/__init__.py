"""Each family's loss and training step: the functions the lectures show and the runs call.

| family                | module           | the loss and the step                                |
|-----------------------|------------------|------------------------------------------------------|
| AE, VAE, CVAE         | ``autoencoders`` | ``autoencoder_loss``, ``vae_loss``, ``train_step``   |
| VQ-VAE, its prior     | ``vqvae``        | ``vqvae_loss``, ``evaluate_vqvae``, ``code_maps``    |
| GAN, DCGAN, CGAN, WGAN-GP | ``gans``     | ``GANTraining.round`` (k D steps, one G step)        |
| CycleGAN              | ``cyclegan``     | ``training_step`` (generators, then discriminators)  |

Each module also holds its family's run settings (``AutoencoderConfig``, ``VQVAEConfig``,
``PixelCNNConfig``, ``GANConfig``, ``CycleGANConfig``), from which ``minigen train MODEL``
builds its options. ``minigen.runs`` drives any of them through one loop of epochs.
"""
from minigen.training.common import frozen, mean_parts, optimizer_step
from minigen.training.config import ConfigError, RunConfig, option

__all__ = ["ConfigError", "RunConfig", "frozen", "mean_parts", "option", "optimizer_step"]
