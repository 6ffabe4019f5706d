"""Image GANs of 003 (repulsive MMD-GAN), 000 (KernelNet MMD-GANs) and 004 §5.4 (GAN + SI).

    from repro.core.image_gan import ImageGAN, Evaluator, TrainSettings, train, resolve_recipe
"""
from .architectures import ARCHITECTURES, build_nets, choose_architecture
from .evaluation import Evaluator, resolve_extractor
from .model import ImageGAN, real_batches, sample_noise
from .objectives import LOSSES, Objective, build_objective
from .recipes import RECIPE_KEYS, resolve_recipe
from .trainer import FID_TAU, TrainSettings, train

__all__ = ["ARCHITECTURES", "Evaluator", "FID_TAU", "ImageGAN", "LOSSES", "Objective", "RECIPE_KEYS",
           "TrainSettings", "build_nets", "build_objective", "choose_architecture", "real_batches",
           "resolve_extractor", "resolve_recipe", "sample_noise", "train"]
