"""Task of every image-GAN table: train one GAN on one image dataset, report FID/KID/IS/MS-SSIM.

``run(cfg, ctx)`` reads:
  cfg['recipe'] (+ cfg['model'], + recipe-named axes)  the method (repro/core/image_gan/recipes.py)
  cfg['data_source']          the dataset actually loaded (the worker picks a stand-in when needed)
  cfg['dataset']              the paper's dataset (architecture choice, divergence threshold τ)
  cfg['architecture']         dcgan | cnn5-resnet | resnet, or a mapping dataset → name
  cfg['width']                optional ResNet base width (default 64, Miyato et al.)
  cfg['steps'], cfg['batch_size'], cfg['lr_g'], cfg['lr_d']  (TTUR learning rates, 003 §5.1);
                              steps may be {default: n, <method>: n} (the paper's per-method lengths)
  cfg['metrics']              reported metrics among fid, kid, is, ms_ssim
  cfg['eval']                 {extractor: auto|inception|random-inception, every, samples, final_samples,
                               real_samples, kid_subsets, kid_subset_size, is_splits, ms_ssim_pairs}
  cfg['lr_decay']             learning-rate decay on the relative KID test (000 §4.1)
  cfg['fid_threshold']        'auto' (τ of 003 Fig. S2 by dataset; only with calibrated Inception on the paper's
                              dataset, never on a stand-in), a number, or null
  cfg['d_outputs']            n > 0: save D(x) and labels of n real images as d_outputs.pt (003 Fig. 4)
A method whose recipe has ``loss: real-data`` trains nothing and scores real images (the "Real data"
row of 003 Table 1): IS and MS-SSIM of the evaluation images, FID between two disjoint real halves.
Returns {"metrics", "steps", "notes", "uncalibrated"}; raises repro.runtime.Diverged on divergence.
"""
from __future__ import annotations

import torch

from repro.core.image_gan import FID_TAU, ImageGAN, TrainSettings, choose_architecture, resolve_recipe, train
from repro.data import data_root, get_dataset
from repro.metrics.evaluator import Evaluator
from repro.runtime import seed_everything

EVAL_DEFAULTS = {"extractor": "auto", "every": 0, "samples": 1000, "final_samples": 50000, "real_samples": 10000,
                 "kid_subsets": 100, "kid_subset_size": 1000, "is_splits": 10, "ms_ssim_pairs": 10000}


def _int(cfg: dict, key: str, minimum: int = 1) -> int:
    if key not in cfg:
        raise ValueError(f"image_gan: config needs '{key}' (set it in the job spec's config or scale config)")
    value = cfg[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"image_gan: '{key}' must be an integer >= {minimum}, got {value!r}")
    return value


def _fixed_indices(dataset, n: int, seed: int) -> list[int]:
    n = min(n, len(dataset))
    return torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:n].tolist()


def _fetch(dataset, idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    getitems = getattr(dataset, "__getitems__", None)
    items = getitems(idx) if getitems is not None else [dataset[i] for i in idx]
    return (torch.stack([torch.as_tensor(img) for img, _ in items]),
            torch.tensor([int(label) for _, label in items]))


def real_images(dataset, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` real images (and labels) from a fixed permutation of the training set (same for every run)."""
    return _fetch(dataset, _fixed_indices(dataset, n, seed))


def real_chunks(dataset, n: int, seed: int = 0, chunk: int = 500):
    """The same images as :func:`real_images`, ``chunk`` at a time (for features of 50K large images)."""
    idx = _fixed_indices(dataset, n, seed)
    for start in range(0, len(idx), chunk):
        yield _fetch(dataset, idx[start:start + chunk])[0]


def _pick(value, name, key: str, what: str):
    if isinstance(value, dict):
        if "default" not in value:
            raise ValueError(f"image_gan: '{key}' given per {what} needs a 'default' entry; got {sorted(value)}")
        return value.get(name, value["default"])
    return value


def _per_method(cfg: dict, key: str) -> dict:
    """``cfg[key]`` may be a mapping {default: v, <method>: v}: the paper's per-method value, which a scale's
    plain value then replaces (a method_config entry would override the scale's value instead). Each v may
    itself be a mapping {default: n, <dataset>: n} (000 §4.1 trains per method and dataset)."""
    value = cfg.get(key)
    if isinstance(value, dict):
        value = _pick(value, cfg.get("method"), key, "method")
        return {key: _pick(value, cfg.get("dataset"), key, "dataset")}
    return cfg


def eval_settings(cfg: dict) -> dict:
    """The evaluation protocol of one run: EVAL_DEFAULTS ⊕ cfg['eval']; a value given as a mapping
    {default: n, <dataset>: n} is taken for the run's (paper) dataset (000 scores CelebA on 50K, others on 100K)."""
    ev = {**EVAL_DEFAULTS, **(cfg.get("eval") or {})}
    return {k: _pick(v, cfg.get("dataset"), f"eval.{k}", "dataset") for k, v in ev.items()}


def _threshold(cfg: dict):
    value = cfg.get("fid_threshold", "auto")
    if value == "auto":
        if (cfg.get("data_source") or cfg["dataset"]) != cfg["dataset"]:
            return None, True  # τ is an FID on the paper's dataset (003 Fig. S2): meaningless on a stand-in
        return FID_TAU.get(cfg["dataset"]), True
    return (None if value is None else float(value)), False


def _evaluator(cfg, ev, images, ctx, tag) -> Evaluator:
    return Evaluator(images, ev["extractor"], ctx.device, kid_subsets=ev["kid_subsets"],
                     kid_subset_size=ev["kid_subset_size"], is_splits=ev["is_splits"],
                     ms_ssim_pairs=ev["ms_ssim_pairs"], cache_key=(str(data_root()), cfg["data_source"], "train", tag))


def _real_data(cfg, ev, dataset, metrics, ctx) -> dict:
    images, _ = real_images(dataset, 2 * ev["real_samples"])
    half = len(images) // 2
    evaluator = _evaluator(cfg, ev, images[:half], ctx, ("real-data half", half))
    scores = evaluator.score(images[half:], metrics)
    notes = [f"real data: {half} real images scored against {len(images) - half} others"]
    if evaluator.note:
        notes.append(evaluator.note)
    return {"metrics": scores, "steps": 0, "notes": notes, **_calibration(evaluator, metrics)}


def _calibration(evaluator, metrics) -> dict:
    """Record fields: the ‡ flags (whole record, or per metric) and which network scored the images."""
    out = {"uncalibrated": not evaluator.calibrated}
    per_metric = evaluator.uncalibrated_metrics(metrics)
    if per_metric:
        out["uncalibrated_metrics"] = per_metric
        out["footnotes"] = [evaluator.note] if evaluator.note else []
    if evaluator.network_label and set(metrics) & {"fid", "kid", "is"}:
        out["feature_network"] = evaluator.network_label
    return out


def run(cfg: dict, ctx) -> dict:
    recipe = resolve_recipe(cfg)
    seed = int(cfg.get("seed", 0))
    ev = eval_settings(cfg)
    metrics = tuple(cfg.get("metrics", ("fid", "kid")))
    seed_everything(seed)
    dataset = get_dataset(cfg.get("data_source") or cfg["dataset"], split="train")
    if recipe.get("loss") == "real-data":
        return _real_data(cfg, ev, dataset, metrics, ctx)

    steps, batch_size = _int(_per_method(cfg, "steps"), "steps", 0), _int(cfg, "batch_size")
    images, _ = real_images(dataset, 2)  # shape, and PICO's example input
    resolution, channels = images.shape[-1], images.shape[1]
    arch = choose_architecture(cfg.get("architecture", "dcgan"), cfg["dataset"])
    gan = ImageGAN(recipe, arch, resolution, channels, float(cfg["lr_g"]), float(cfg["lr_d"]), ctx.device,
                   example_real=images, width=cfg.get("width"))
    evaluator = _evaluator(cfg, ev, real_chunks(dataset, ev["real_samples"]), ctx, ("first", ev["real_samples"]))
    tau, needs_calibration = _threshold(cfg)
    notes = [f"{cfg.get('method')}: {arch} at {resolution}×{resolution}, {steps} generator steps of batch {batch_size}, "
             f"n_dis {gan.n_dis}, lr (G, D) = ({cfg['lr_g']}, {cfg['lr_d']}), objective {gan.objective.name}"]
    if evaluator.note:
        notes.append(evaluator.note)
    if cfg.get("fid_threshold", "auto") == "auto" and tau is None and cfg["dataset"] in FID_TAU:
        notes.append(f"divergence threshold τ = {FID_TAU[cfg['dataset']]} (003 Fig. S2) not applied: it is an FID on "
                     f"{cfg['dataset']}, and this run scores the stand-in {cfg.get('data_source')}")
    settings = TrainSettings(steps=steps, batch_size=batch_size, eval_every=int(ev["every"]),
                             eval_samples=int(ev["samples"]), final_samples=int(ev["final_samples"]),
                             metrics=metrics, fid_threshold=tau, threshold_needs_calibration=needs_calibration,
                             seed=seed, notes=notes)
    decay = evaluator.lr_decay() if cfg.get("lr_decay", False) else None
    result = train(gan, dataset, evaluator, settings, ctx, lr_decay=decay)
    n_out = int(cfg.get("d_outputs", 0) or 0)
    if n_out:
        x, labels = real_images(dataset, n_out, seed=1)
        gan.D.eval()
        with torch.no_grad():
            out = torch.cat([gan.D(x[i:i + 256].to(gan.device)).cpu() for i in range(0, len(x), 256)])
        torch.save({"outputs": out, "labels": labels, "method": cfg.get("method")}, ctx.artifact("d_outputs.pt"))
    result.pop("history", None)
    result.pop("best_step", None)
    result.update(_calibration(evaluator, metrics))
    return result
