"""Encoders and decoder shared by every model of 000 Table 3.

000 §4.2: "a fully-connected neural network with 1 hidden layer for both encoder and decoder, whose
hidden units are set to 400"; latent dimension 32; Bernoulli decoder on binarized MNIST; the implicit
encoder injects Bernoulli noise "by using dropout with a dropout rate of 0.3" at every layer
including the input (§3.3). The hidden activation is not stated: we use ReLU (our choice).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

HIDDEN = 400  # 000 §4.2
LATENT = 32  # 000 §4.2
DROPOUT = 0.3  # 000 §4.2


class BernoulliDecoder(nn.Module):
    """p_θ(x|z) = Π_j Bernoulli(x_j | sigmoid(f_θ(z)_j)), f_θ: latent → 400 → data_dim."""

    def __init__(self, data_dim: int, latent_dim: int = LATENT, hidden: int = HIDDEN):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, data_dim))

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) summed over pixels; z [..., latent], x broadcastable to [..., data_dim]."""
        logits = self.net(z)
        return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)


class GaussianEncoder(nn.Module):
    """q_φ(z|x) = N(μ(x), diag σ²(x)), data_dim → 400 → (μ, log σ²) (Kingma & Welling 2014)."""

    def __init__(self, data_dim: int, latent_dim: int = LATENT, hidden: int = HIDDEN):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(data_dim, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.body(x)).chunk(2, -1)
        return mu, logvar.clamp(-12.0, 8.0)

    def sample(self, x: torch.Tensor, n_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """n_samples reparameterised draws per row: z [n_samples, B, latent], plus (μ, log σ²)."""
        mu, logvar = self(x)
        eps = torch.randn(n_samples, *mu.shape, device=mu.device, dtype=mu.dtype)
        return mu + eps * (0.5 * logvar).exp(), mu, logvar

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self(x)[0]


class ImplicitEncoder(nn.Module):
    """z = f_φ(x, noise): dropout(0.3) on the input and on the hidden layer, always on (000 §3.3).

    The noise is the only source of randomness; there is no reparameterised density, so q_φ(z|x)
    is implicit. ``sample`` draws n_samples z per x by repeating x under fresh dropout masks.
    """

    def __init__(self, data_dim: int, latent_dim: int = LATENT, hidden: int = HIDDEN, dropout: float = DROPOUT):
        super().__init__()
        self.dropout = dropout
        self.fc1 = nn.Linear(data_dim, hidden)
        self.fc2 = nn.Linear(hidden, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc1(F.dropout(x, self.dropout, training=True)))
        return self.fc2(F.dropout(h, self.dropout, training=True))

    def sample(self, x: torch.Tensor, n_samples: int) -> torch.Tensor:
        return self(x.unsqueeze(0).expand(n_samples, *x.shape))  # [n_samples, B, latent]

    def embed(self, x: torch.Tensor, n_samples: int = 32) -> torch.Tensor:
        """Posterior-mean features for t-SNE / SVM: the average of n_samples draws."""
        return self.sample(x, n_samples).mean(0)


class SemiImplicitEncoder(nn.Module):
    """SIVI (Yin & Zhou 2018): ψ = μ_φ(x, noise) implicit, z | ψ ~ N(ψ, diag σ²_φ(x)) explicit.

    The mixing mean uses the implicit encoder's noise injection (dropout 0.3 at input and hidden
    layer); the variance comes from a deterministic head on the clean input (our choice).
    """

    def __init__(self, data_dim: int, latent_dim: int = LATENT, hidden: int = HIDDEN, dropout: float = DROPOUT):
        super().__init__()
        self.mixing = ImplicitEncoder(data_dim, latent_dim, hidden, dropout)
        self.logvar = nn.Sequential(nn.Linear(data_dim, hidden), nn.ReLU(), nn.Linear(hidden, latent_dim))

    def sample(self, x: torch.Tensor, n_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        psi = self.mixing.sample(x, n_samples)  # [S, B, d]
        logvar = self.logvar(x).clamp(-12.0, 8.0)  # [B, d]
        z = psi + torch.randn_like(psi) * (0.5 * logvar).exp()
        return z, psi, logvar

    def embed(self, x: torch.Tensor, n_samples: int = 32) -> torch.Tensor:
        return self.mixing.embed(x, n_samples)
