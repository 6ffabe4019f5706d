"""Speed of the MMD-GAN core on one full DCGAN-CIFAR training step (issue 4).

Prints, measured in one run on this machine (configurations interleaved step by step so that load
changes hit all of them alike; median over steps):

1. DK / RBF: one step (1 discriminator + KernelNet update, 1 generator update; batch 64, 16-D
   discriminator output, PIM spectral norm) of Rep-GAN-DK (L_η with η = 1, α2 = 0.01 Ω, DK kernel with
   1024 random features) against the same step of MMD-rep (L_D^rep, single Gaussian σ = 1). Target ≤ 1.5×.
2. PICO / PIM: the same MMD-rep step with PICO instead of PIM on every discriminator layer, and the
   discriminator forward+backward alone.

Usage: python benchmarks/bench_core.py [--steps 5] [--batch 64] [--features 1024] [--device cpu]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from repro.core import dk_kernel, rbf_single
from repro.core.kernelnet_losses import mmd_dk_g, rep_dk_d
from repro.core.mmd import loss_d_rep, loss_g_mmd, means
from repro.core.nets.dcgan import dcgan_pair
from repro.core.spectral import apply_lipschitz


class Setup:
    def __init__(self, kernel_kind: str, lipschitz: str, batch: int, features: int, device: torch.device):
        torch.manual_seed(0)
        self.g, self.d = dcgan_pair(32, out_dim=16)
        self.g.to(device), self.d.to(device)
        self.device, self.batch = device, batch
        apply_lipschitz(self.d, lipschitz, example_input=torch.randn(2, 3, 32, 32, device=device))
        self.kernel_kind = kernel_kind
        d_params = list(self.d.parameters())
        if kernel_kind == "dk":
            self.kernel = dk_kernel(16, n_features=features).to(device)
            d_params += list(self.kernel.parameters())
        else:
            self.kernel = rbf_single()
        self.opt_d = torch.optim.Adam(d_params, 2e-4, betas=(0.5, 0.999))
        self.opt_g = torch.optim.Adam(self.g.parameters(), 2e-4, betas=(0.5, 0.999))
        self.real = torch.rand(batch, 3, 32, 32, device=device) * 2 - 1

    def z(self):
        return torch.rand(self.batch, 128, device=self.device) * 2 - 1

    def train_step(self) -> None:
        # discriminator (+ KernelNet) update
        with torch.no_grad():
            fake = self.g(self.z())
        fx, fy = self.d(self.real), self.d(fake)
        if self.kernel_kind == "dk":
            loss_d = rep_dk_d(self.kernel, fx, fy, eta=1.0, alpha2=0.01)
        else:
            loss_d = loss_d_rep(means(fx, fy, self.kernel))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # generator update
        fake = self.g(self.z())
        fx, fy = self.d(self.real), self.d(fake)
        loss_g = mmd_dk_g(self.kernel, fx, fy) if self.kernel_kind == "dk" else loss_g_mmd(means(fx, fy, self.kernel))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()

    def d_pass(self) -> None:
        self.opt_d.zero_grad(set_to_none=True)
        self.d(self.real).pow(2).mean().backward()


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(named_fns: dict, steps: int, warmup: int = 1) -> dict:
    times = {k: [] for k in named_fns}
    for i in range(warmup + steps):
        for name, fn in named_fns.items():
            t = timed(fn)
            if i >= warmup:
                times[name].append(t)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--features", type=int, default=1024)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    rbf = Setup("rbf", "pim", args.batch, args.features, device)
    dk = Setup("dk", "pim", args.batch, args.features, device)
    pico = Setup("rbf", "pico", args.batch, args.features, device)
    print(f"# DCGAN-CIFAR step, batch {args.batch}, 16-D D output, device {device}, "
          f"torch threads {torch.get_num_threads()}, median of {args.steps} steps")
    t = measure({"rbf": rbf.train_step, "dk": dk.train_step, "pico": pico.train_step}, args.steps)
    print(f"MMD-rep (RBF, PIM) step      {t['rbf'] * 1e3:8.1f} ms")
    print(f"Rep-GAN-DK (DK {args.features} feat.) step {t['dk'] * 1e3:8.1f} ms")
    print(f"MMD-rep (RBF, PICO) step     {t['pico'] * 1e3:8.1f} ms")
    print(f"DK / RBF step ratio          {t['dk'] / t['rbf']:8.2f}  (target <= 1.5)")
    print(f"PICO / PIM step ratio        {t['pico'] / t['rbf']:8.2f}")
    td = measure({"pim": rbf.d_pass, "pico": pico.d_pass}, args.steps)
    print(f"PICO / PIM discriminator fwd+bwd ratio {td['pico'] / td['pim']:6.2f}  "
          f"({td['pico'] * 1e3:.1f} vs {td['pim'] * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
