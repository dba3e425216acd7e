"""``minigen.optim``: optimizers (``SGD``, ``Adam``) and learning-rate schedulers.

>>> import minigen
>>> from minigen import nn, optim
>>> model = nn.Linear(3, 1)
>>> opt = optim.Adam(model.parameters(), lr=1e-3)
>>> loss = model(minigen.ones(4, 3)).sum()
>>> opt.zero_grad(); loss.backward(); opt.step()
"""
from minigen.optim import lr_scheduler
from minigen.optim.adam import Adam
from minigen.optim.optimizer import Optimizer
from minigen.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "lr_scheduler"]
