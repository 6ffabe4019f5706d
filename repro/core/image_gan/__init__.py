"""Image GANs of 003 (repulsive MMD-GAN), 000 (KernelNet MMD-GANs) and 004 §5.4 (GAN + SI).

    from repro.core.image_gan import ImageGAN, TrainSettings, train, resolve_recipe

The evaluator the trainer calls lives with the metrics (repro/metrics/evaluator.py).
"""
from .architectures import ARCHITECTURES, build_nets, choose_architecture
from .model import ImageGAN, real_batches, sample_noise
from .objectives import LOSSES, Objective, build_objective
from .recipes import RECIPE_KEYS, resolve_recipe
from .trainer import FID_TAU, TrainSettings, train

__all__ = ["ARCHITECTURES", "FID_TAU", "ImageGAN", "LOSSES", "Objective", "RECIPE_KEYS",
           "TrainSettings", "build_nets", "build_objective", "choose_architecture", "real_batches",
           "resolve_recipe", "sample_noise", "train"]
