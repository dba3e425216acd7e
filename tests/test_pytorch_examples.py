"""PyTorch code with ``torch`` standing for minigen: the everyday lines of PyTorch's example
VAE (an MLP 784-400-20, its reparameterization and loss) and of the continuous-Bernoulli
normalizer, written as a PyTorch user writes them, run unchanged and train on real digits."""
import math

import numpy as np

import minigen as torch
import minigen.functional as F
from minigen import nn, optim
from minigen.data import load_digits


class ExampleVAE(nn.Module):
    def __init__(self):
        super(ExampleVAE, self).__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)          # μ
        self.fc22 = nn.Linear(400, 20)          # log σ²
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def cb_log_norm(lam, eps=1e-3):
    """log C(λ) of the continuous Bernoulli: log(2 atanh(1 - 2λ) / (1 - 2λ)), and its
    Taylor series log 2 + 4/3 (λ - ½)² + 104/45 (λ - ½)⁴ near λ = ½ where both parts are 0/0."""
    lam = torch.clamp(lam, min=1e-4, max=1 - 1e-4)
    far = torch.le(lam, 0.5 - eps) | torch.gt(lam, 0.5 + eps)
    safe = torch.where(far, lam, torch.full_like(lam, 0.25))     # keeps 0/0 out of the graph
    exact = torch.log(torch.abs(2.0 * torch.atanh(1 - 2.0 * safe))) \
        - torch.log(torch.abs(1 - 2.0 * safe))
    taylor = math.log(2.0) + 4.0 / 3.0 * torch.pow(lam - 0.5, 2) \
        + 104.0 / 45.0 * torch.pow(lam - 0.5, 4)
    return torch.where(far, exact, taylor)


def test_the_example_vae_trains_on_digits():
    torch.manual_seed(0)
    images = torch.tensor(load_digits("train")[0][:256])          # (256, 1, 28, 28) in [0, 1]
    model = ExampleVAE()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    losses = []
    for epoch in range(3):
        for batch_idx in range(4):
            data = images[batch_idx * 64:(batch_idx + 1) * 64]
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            losses.append(loss.item() / len(data))
            optimizer.step()
    assert recon_batch.size() == (64, 784) and mu.size(1) == 20
    assert losses[-1] < 0.6 * losses[0]          # about 550 nats per image at first, 280 after 12
    with torch.no_grad():
        sample = model.decode(torch.randn(8, 20))
    assert sample.shape == (8, 784) and not sample.requires_grad


def test_the_continuous_bernoulli_normalizer_matches_its_closed_form():
    lam = np.array([1e-5, 0.1, 0.3, 0.4995, 0.5, 0.5004, 0.7, 0.99], dtype=np.float64)
    got = cb_log_norm(torch.tensor(lam, dtype=np.float64)).numpy()
    clamped = np.clip(lam, 1e-4, 1 - 1e-4)
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = np.log(2 * np.arctanh(1 - 2 * clamped) / (1 - 2 * clamped))
    near = np.abs(clamped - 0.5) <= 1e-3
    closed[near] = math.log(2.0)                                  # C(½) = 2
    np.testing.assert_allclose(got, closed, rtol=1e-6, atol=1e-6)


def test_the_vae_loss_with_the_normalizer_has_finite_gradients():
    torch.manual_seed(1)
    model = ExampleVAE()
    data = torch.tensor(load_digits("test")[0][:16])
    recon_batch, mu, logvar = model(data)
    loss = loss_function(recon_batch, data, mu, logvar) - torch.sum(cb_log_norm(recon_batch))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.all(np.isfinite(p.grad.numpy())), name
