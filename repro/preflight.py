"""`repro preflight JOB`: will a job's runs start, evaluate and finish, before GPU-days are spent on it.

For every distinct configuration of the (filtered) grid — runs that differ only in seed or learning
rate share one — it builds the networks at the real resolution and width, takes two real training
steps (discriminator updates with the recipe's loss, penalties, PICO/PIM and KernelNet, then the
generator), passes once through the real evaluation path at small counts (features, FID, KID, IS,
MS-SSIM, the relative-KID test of the learning-rate decay), and computes from the real shapes the memory
each evaluation stage needs at the protocol's counts (:func:`eval_memory`). Real data is used when
present; otherwise random tensors of the real shape and label range, and the table says so. It prints
one line per configuration as it finishes (tqdm), then one table, and exits non-zero with one line per
failing configuration.

Batch (the table's ``batch`` column says, per configuration, what each check ran at):

- default on a CPU (a login node, issue 29): one step at a batch of ``CPU_BATCH`` with one discriminator
  update: the recipe's D update (loss, penalties, KernelNet), then its G update, on the real networks. At a
  small batch a CPU update still costs 0.3-5 s (0.6 s for the 5.9M-parameter DCGAN discriminator at batch
  2 on a loaded core here); the recipe's n_dis repeats and a second step would multiply the time and run
  no further code. These checks run on one thread: at batch 2 a second thread's synchronisation costs more
  than it saves (one DCGAN-to-ResNet step here: 0.3-2.4 s on one thread, 1.3-3.8 s on two at the quietest
  moment, and 5-10x more on two when other processes share the cores, as on a login node). Step times (s/step, GPU-h) come from the shared step-time cache (``repro plan JOB``
  fills it) and are not timed.
- ``--full``, or a GPU: the job's batch and the recipe's n_dis, and the step timing (repro/steptime.py).
- ``--batch B``: that batch with the recipe's n_dis.

:func:`cheap_problems` is the part `repro run` runs before launching anything: dataset present, weights
present, every configuration resolves and builds (no training step).

``quick`` (the CI test of every job at scale paper): each distinct architecture (network, resolution,
width) is built once and takes its two steps at a batch of 2 with n_dis 1; each further Lipschitz layer
or output size of it is built at the real shape and takes one discriminator loss with its gradient;
every other recipe's objective takes one D and one G loss with gradient on a linear stand-in
discriminator at the real input shape; memory figures stay analytic; no timing.

In every mode the evaluation path runs once per (extractor, metrics, relative-KID test), and each further
image shape passes 3 generated images through the extractor (:func:`_eval_pass`); one extractor network
per name.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

GB = 1024 ** 3
FEATURES = 2048 + 1008  # Inception pool3 + logits per image (float32), as the extractor returns them
SCORE_CHUNK = 500  # images generated and scored at a time (Evaluator.score_stream)
INCEPTION_BATCH = 50  # images per Inception forward (FeatureExtractor)
INCEPTION_ACTIVATIONS = 12 * 2 ** 20  # bytes of live activations per image in an Inception forward, no grad (stated)
DROP = ("seed", "lr_g", "lr_d", "axes")  # what does not change a configuration's shapes or code path
CPU_BATCH = 2  # the default CPU check's batch (module docstring)


@dataclass
class Config:
    label: str
    cfg: dict
    runs: list = field(default_factory=list)
    key: str = ""


def distinct(runs) -> list[Config]:
    """Runs grouped by everything except seed and learning rates."""
    groups: dict[str, Config] = {}
    for run in runs:
        cfg = run.config
        axes = {k: v for k, v in (cfg.get("axes") or {}).items() if not str(k).startswith("lr")}
        key = json.dumps({**{k: v for k, v in cfg.items() if k not in DROP}, "axes": axes}, sort_keys=True, default=str)
        if key not in groups:
            extra = " · ".join(f"{k}={v}" for k, v in axes.items())
            groups[key] = Config(" · ".join(filter(None, [cfg["method"], cfg["dataset"], extra])), cfg, key=key)
        groups[key].runs.append(run)
    return list(groups.values())


# ----------------------------------------------------------------------------- the cheap part
def _source(cfg: dict, scale: str) -> tuple[str, bool]:
    """(dataset the run will read, present?)."""
    from repro.data import DATASETS

    name, sub = cfg["dataset"], cfg.get("dataset_substitute")
    spec = DATASETS.get(name)
    if spec is None or spec.kind == "synthetic":
        return name, True
    if spec.present():
        return name, True
    if sub and scale != "paper":
        return sub, True
    return name, False


def _prepare_hint(name: str) -> str:
    from repro.data import DATASETS, data_root

    prep = DATASETS[name].prepared_by or name
    return (f"dataset '{name}' is missing under {data_root()}: prepare it with "
            f"`repro data prepare {prep} --root DIR` (or set $REPRO_DATA)")


def _needs_inception(cfg: dict, scale: str) -> bool:
    if cfg.get("task") != "image_gan" or scale != "paper":
        return False
    from repro.tasks.image_gan import eval_settings

    return eval_settings(cfg)["extractor"] in ("auto", "inception")


def _build_check(cfg: dict) -> str | None:
    """Resolve the configuration the way its task will (recipe, architecture, counts); a message on failure."""
    import importlib

    try:
        importlib.import_module(f"repro.tasks.{cfg['task']}")
        if cfg["task"] == "image_gan":
            from repro.core.image_gan import choose_architecture, resolve_recipe
            from repro.core.image_gan.objectives import build_objective
            from repro.tasks.image_gan import _int, _per_method, eval_settings

            recipe = resolve_recipe(cfg)
            if recipe.get("loss") != "real-data":
                _int(_per_method(cfg, "steps"), "steps", 0), _int(cfg, "batch_size")
                choose_architecture(cfg.get("architecture", "dcgan"), cfg["dataset"])
                build_objective(recipe, int(recipe.get("out_dim", 1)))
            eval_settings(cfg)
        if cfg["task"] == "ivae":
            from repro.data import DATASETS

            labelled = [e for e in cfg.get("evaluate", []) if e in ("tsne", "svm")]
            spec = DATASETS.get(cfg["dataset"])
            if labelled and spec is not None and not spec.num_classes:
                return f"{', '.join(labelled)} need class labels and dataset '{cfg['dataset']}' has none"
    except Exception as err:  # reported as one line per configuration
        return f"{type(err).__name__}: {err}"
    return None


def cheap_problems(runs, scale: str) -> list[str]:
    """One line per problem that would make runs fail: missing data, missing weights, a configuration
    that does not resolve. Nothing is trained."""
    problems, seen = [], set()
    for c in distinct(runs):
        source, present = _source(c.cfg, scale)
        if not present and source not in seen:
            seen.add(source)
            n = sum(len(d.runs) for d in distinct(runs) if _source(d.cfg, scale) == (source, False))
            problems.append(f"{_prepare_hint(source)}; {n} run(s) need it")
        if _needs_inception(c.cfg, scale) and "inception" not in seen:
            from repro.metrics import InceptionWeightsMissing
            from repro.metrics.extractors import find_inception_weights

            seen.add("inception")
            try:
                find_inception_weights()
            except InceptionWeightsMissing:
                problems.append("the TF-Inception weights are missing (FID/KID/IS at scale paper need them): "
                                "`repro metrics inception-weights` says where to put them")
        why = _build_check(c.cfg)
        if why:
            problems.append(f"{c.label}: {why}")
    return problems


# ----------------------------------------------------------------------------- analytic memory
def eval_memory(cfg: dict, image_shape: tuple) -> dict[str, float]:
    """Bytes each evaluation stage of an image-GAN run needs at the protocol's counts (stated model):

    features: Inception pool+logits (float32) of the real set and of the final samples, resident together;
    fid: float64 copies of both pool sets and two 2048² covariances; kid: three subset Gram blocks (float64)
    and float64 copies of both pool sets; relative_kid: float64 copies of the real and two sample pool sets
    plus one 8 MiB block (repro/metrics/relative_kid.py); samples: one generated chunk and the Inception
    batch with its activations; ms_ssim: every final sample kept as float32 (Evaluator.score_stream).
    """
    from repro.tasks.image_gan import eval_settings

    ev = eval_settings(cfg)
    metrics = tuple(cfg.get("metrics", ("fid", "kid")))
    pixels = math.prod(image_shape)
    real, final, during = ev["real_samples"], ev["final_samples"], ev["samples"]
    features = (real + final) * FEATURES * 4
    out = {"features": features,
           "samples": SCORE_CHUNK * pixels * 4 + INCEPTION_BATCH * (3 * 299 * 299 * 4 + INCEPTION_ACTIVATIONS)}
    out["fid"] = features + (real + final) * 2048 * 8 + 2 * 2048 ** 2 * 8
    m = min(ev["kid_subset_size"], real, final)
    out["kid"] = features + (real + final) * 2048 * 8 + 3 * m * m * 8
    if cfg.get("lr_decay"):
        out["relative_kid"] = real * FEATURES * 4 + (real + 2 * during) * 2048 * 8 + 8 * 2 ** 20
    if "ms_ssim" in metrics:
        out["ms_ssim"] = features + final * pixels * 4
    return out


def ais_memory(cfg: dict, data_dim: int = 784) -> dict[str, float]:
    """AIS of the ivae NLL: every chain of every test point at once, float32: position, momentum,
    gradient and the decoder's output per chain (stated model), and the test points; with the doubling
    check, the largest of its runs (twice the chains; 2^(k+1) times on rung k's next_rung_examples points)."""
    from repro.tasks.ivae import _opts, next_rung_examples

    ais = _opts(cfg, "ais")
    latent = 32
    chains = ais["examples"] * ais["chains"] * (2 if ais.get("doubling_check") else 1)  # the doubled run's chains
    for k, m in enumerate(next_rung_examples(ais), start=1):
        chains = max(chains, m * 2 ** (k + 1) * ais["chains"])
    return {"ais": chains * (3 * latent + 2 * data_dim) * 4 + ais["examples"] * data_dim * 4}


# ----------------------------------------------------------------------------- the full check
def _peak_bytes(device) -> float:
    import torch

    if device.type == "cuda":
        return float(torch.cuda.max_memory_allocated(device))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0  # KiB on Linux


def _images(source: str, present: bool, n: int, shape: tuple, num_classes):
    """n images of the run's data, or random ones of the real shape and label range."""
    import torch

    if present:
        from repro.data import get_dataset
        from repro.tasks.image_gan import real_images

        return real_images(get_dataset(source, split="train"), n)
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, num_classes or 1, (n,), generator=gen) if num_classes else torch.full((n,), -1)
    return torch.rand(n, *shape, generator=gen) * 2 - 1, labels


class _LinearD(torch.nn.Module):
    """A linear discriminator at the real input shape: runs a recipe's objective (kernels, penalties) cheaply."""

    def __init__(self, pixels: int, out_dim: int):
        super().__init__()
        self.fc = torch.nn.Linear(pixels, out_dim)

    def forward(self, x):
        return self.fc(x.flatten(1))


def _eval_pass(cfg, images, gan, device, memo: dict) -> str:
    """The real evaluation path at small counts: features, FID/KID/IS/MS-SSIM, relative-KID test; once per
    (extractor, metrics, decay test), and for each further image shape the features of 3 generated images
    (the metrics see 2,048-d features whatever the shape; MS-SSIM sees images, so it keeps the full pass)."""
    import torch

    from repro.metrics.evaluator import Evaluator, resolve_extractor
    from repro.metrics import relative_kid_test
    from repro.tasks.image_gan import eval_settings

    ev = eval_settings(cfg)
    metrics = tuple(cfg.get("metrics", ("fid", "kid")))
    path = (ev["extractor"], metrics, bool(cfg.get("lr_decay")))
    key = (*path, tuple(images.shape[1:]))
    if key in memo:
        return memo[key]
    if path in memo and "ms_ssim" not in metrics:
        fake = gan.generate(3, torch.Generator().manual_seed(1)) if gan is not None else images[4:7]
        pool = resolve_extractor(ev["extractor"], device)(fake)["pool"]
        memo[key] = memo[path] + ("; features at this shape" if np.isfinite(pool).all() else "; non-finite features")
        return memo[key]
    real = images[:4]  # small counts: 4 real, 6 generated (the relative-KID test needs 3 + 3)
    evaluator = Evaluator(real, ev["extractor"], device, kid_subsets=2, kid_subset_size=3, is_splits=2,
                          ms_ssim_pairs=3)
    if gan is not None:
        fake = gan.generate(6, torch.Generator().manual_seed(1))
    else:
        fake = images[4:10]
    chunks = iter(fake.split(3))  # through score_stream in chunks, as the trainer's final evaluation
    wanted = tuple(dict.fromkeys((*metrics, "fid", "kid")))
    pools, features = [], evaluator.features
    evaluator.features = lambda x: pools.append(features(x)) or pools[-1]  # keep them for the relative KID
    scores, _ = evaluator.score_stream(lambda k: next(chunks)[:k], 6, wanted, chunk=3)
    if cfg.get("lr_decay"):
        relative_kid_test(evaluator.real["pool"], pools[0]["pool"], pools[1]["pool"])
    bad = [k for k, v in scores.items() if not math.isfinite(v)]
    memo[key] = memo[path] = (f"{evaluator.extractor.name}" + (" (uncalibrated)" if not evaluator.calibrated else "")
                              + (f"; non-finite {bad}" if bad else ""))
    return memo[key]


@dataclass(frozen=True)
class Mode:
    """How the checks run: ``batch`` (None: the job's), ``one_update`` (n_dis 1), ``steps`` per network,
    ``quick`` (module docstring)."""
    batch: int | None = None
    one_update: bool = False
    steps: int = 2
    quick: bool = False

    @classmethod
    def resolve(cls, device, batch: int | None, quick: bool, full: bool) -> "Mode":
        if quick:
            return cls(2, True, 2, True)
        if batch is None and not full and torch.device(device).type == "cpu":
            return cls(CPU_BATCH, True, 1)
        return cls(batch)

    def name(self) -> str:
        if self.quick:
            return "quick"
        steps = f"{self.steps} step{'s' * (self.steps > 1)}"
        return f"{steps} at batch {self.batch or 'of the job'}" + (", n_dis 1" if self.one_update else "")


def check_image_gan(c: Config, scale: str, device, mode: Mode, memo: dict) -> dict:
    import torch

    from repro.core.image_gan import ImageGAN, choose_architecture, resolve_recipe
    from repro.core.image_gan.objectives import build_objective
    from repro.data import DATASETS
    from repro.tasks.image_gan import _per_method

    cfg = c.cfg
    source, present = _source(cfg, scale)
    spec = DATASETS[source]
    shape = tuple(spec.shape)
    recipe = resolve_recipe(cfg)
    real_data = recipe.get("loss") == "real-data"
    arch = choose_architecture(cfg.get("architecture", "dcgan"), cfg["dataset"])
    batch_size = int(cfg["batch_size"])
    b = max(2, min(mode.batch or batch_size, batch_size))
    quick = mode.quick
    images, _ = _images(source, present, max(10, b), shape, spec.num_classes)
    row = {"data": source if present else f"random {'×'.join(map(str, shape))} ({source} absent)",
           "steps": 0 if real_data else int(_per_method(cfg, "steps")["steps"]), "arch": arch,
           "resolution": shape[-1], "batch_size": batch_size, "n_dis": int(recipe.get("n_dis", 1)),
           "width": cfg.get("width"), "batch": None}
    gan = None
    if not real_data:
        arch_key = ("arch", arch, shape, cfg.get("width"))
        net_key = (arch, shape, cfg.get("width"), recipe.get("lipschitz"), recipe.get("out_dim"))
        if quick and arch_key in memo and net_key not in memo:  # a new Lipschitz layer / output size
            memo[net_key] = True
            gan = ImageGAN(dict(recipe, n_dis=1), arch, shape[-1], shape[0], float(cfg["lr_g"]), float(cfg["lr_d"]),
                           device, example_real=images[:2], width=cfg.get("width"))
            x = images[:2].to(gan.device).contiguous(memory_format=gan.memory_format)
            with torch.no_grad():
                y = gan.G(gan.noise_batch(2, torch.Generator().manual_seed(0)))
            gan.objective.d_loss(gan.D, x, y).backward()
            row["check"], row["batch"] = "built; one D loss and gradient (architecture stepped above)", 2
        elif quick and net_key in memo:  # this network was built and stepped: check only the objective
            objective = build_objective(recipe, int(recipe.get("out_dim", 1)))
            d = _LinearD(math.prod(shape), int(recipe.get("out_dim", 1))).to(device)
            if objective.kernel is not None:
                objective.kernel.to(device)
            x, y = images[:2].to(device), images[2:4].to(device).requires_grad_(True)
            objective.d_loss(d, x, y.detach()).backward()
            objective.g_loss(d, x, y).backward()
            row["check"], row["batch"] = "objective on a linear D (network stepped above)", 2
        else:
            memo[net_key] = memo[arch_key] = True
            r = dict(recipe, n_dis=1) if mode.one_update else recipe
            gan = ImageGAN(r, arch, shape[-1], shape[0], float(cfg["lr_g"]), float(cfg["lr_d"]), device,
                           example_real=images[:2], width=cfg.get("width"))
            z_gen = torch.Generator().manual_seed(0)
            batches = iter(lambda: images[:b].to(gan.device), None)
            t0 = time.perf_counter()
            for _ in range(mode.steps):
                losses = gan.train_step(lambda: next(batches), z_gen)
                if not all(math.isfinite(v) for v in losses.values()):
                    raise FloatingPointError(f"non-finite loss in a preflight step: {losses}")
            fewer = mode.one_update and row["n_dis"] != 1
            row["check"] = f"{mode.steps} step{'s' * (mode.steps > 1)}" + \
                           (f" (n_dis 1 of {row['n_dis']})" if fewer else "") + \
                           f" in {time.perf_counter() - t0:.1f} s"
            row["batch"] = b
    else:
        row["check"] = "no training (real data scored)"
    row["eval"] = _eval_pass(cfg, images, gan, device, memo)
    row["peak"] = _peak_bytes(device)
    row["memory"] = eval_memory(cfg, shape)
    return row


def check_ivae(c: Config, scale: str, device, mode: Mode, memo: dict) -> dict:
    import torch

    from repro.core.vae import VAEFamily
    from repro.data import DATASETS
    from repro.runtime import RunContext
    from repro.tasks import ivae

    cfg = c.cfg
    source, present = _source(cfg, scale)
    why = _build_check(cfg)
    if why:
        raise ValueError(why)
    spec = DATASETS[source]
    dim = math.prod(spec.shape)
    if present:
        x, y = ivae.load_split(source, "train")
        x, y = x[:64], y[:64]
    else:
        gen = torch.Generator().manual_seed(0)
        x = (torch.rand(64, dim, generator=gen) < 0.3).float()
        y = torch.randint(0, spec.num_classes or 1, (64,), generator=gen) if spec.num_classes else torch.full((64,), -1)
    model = VAEFamily(cfg["method"], dim).to(device)
    train = dict(ivae._opts(cfg, "train"))
    job_batch = train["batch_size"]
    if mode.batch:
        train["batch_size"] = min(mode.batch, job_batch)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        small = dict(cfg, epochs=1, max_steps=2, train=train)
        steps = ivae.train_model(model, x, small, RunContext(Path(tmp), device=device, checkpoint_every=0))
        evaluations = cfg.get("evaluate", ["nll"])
        if "nll" in evaluations:
            ivae.evaluate_nll(model, x[:4], dict(cfg, ais={"examples": 4, "chains": 2, "steps": 2, "leapfrog": 1}),
                              device)
        if {"tsne", "svm"} & set(evaluations):
            z = ivae.embed_all(model, x, device)
            if "svm" in evaluations:  # the SVM on 20 labelled codes, scored on the rest
                ivae.svm_accuracies(z[:32], y[:32], z[32:], y[32:], [20], cfg["seed"])
    return {"data": source if present else f"random {'×'.join(map(str, spec.shape))} ({source} absent)",
            "steps": None, "check": f"{steps} steps", "batch": train["batch_size"], "batch_size": job_batch,
            "eval": ", ".join(evaluations),
            "peak": _peak_bytes(device),
            "memory": ais_memory(cfg, dim) if "nll" in cfg.get("evaluate", ["nll"]) else {}}


CHECKS = {"image_gan": check_image_gan, "ivae": check_ivae}


def preflight(runs, scale: str, device: str = "cpu", batch: int | None = None, quick: bool = False,
              memory_limit_gb: float | None = None, timing: bool = True, gpu_speedup: float = 50.0,
              memo: dict | None = None, full: bool = False, progress: bool = False) -> tuple[list, list]:
    """(table rows, failure lines) for the distinct configurations of ``runs``. ``memo``: what was already
    built, stepped and evaluated (pass one dict to several calls to check each architecture once).
    ``progress``: say first how long it should take, then one line per configuration (stderr)."""
    from repro.metrics import evaluator as evaluation

    memo = {} if memo is None else memo
    extractors = memo.setdefault("extractors", {})
    original = evaluation.resolve_extractor

    def one_per_name(name, device):  # one extractor network per (name, device)
        key = (name, str(device))
        if key not in extractors:
            extractors[key] = original(name, device)
        return extractors[key]

    evaluation.resolve_extractor = one_per_name
    try:
        mode = Mode.resolve(device, batch, quick, full)
        return _preflight(runs, scale, device, mode, memory_limit_gb, timing, gpu_speedup, memo, progress)
    finally:
        evaluation.resolve_extractor = original


def _check_key(c: Config, mode: Mode) -> str:
    """The step-time cache's key for one configuration's check (its seconds are kept for the next estimate)."""
    return f"preflight|{hashlib.sha1(c.key.encode()).hexdigest()[:16]}|{mode.name()}"


def _step_times(configs, scale: str, device: str, measure: bool) -> dict:
    """s/step per (arch, resolution, batch, width): timed (and cached) when ``measure``, else what is cached."""
    from repro.steptime import cached, step_table

    nets = list(dict.fromkeys(row for c in configs if c.cfg.get("task") == "image_gan" and not _build_check(c.cfg)
                              for row in [_shape_row(c.cfg, scale)] if row))
    if measure:
        return step_table(nets, device, desc="repro preflight") if nets else {}
    return {n: hit for n in nets for hit in [cached(*n, device)] if hit is not None}


def _preflight(runs, scale, device, mode, memory_limit_gb, timing, gpu_speedup, memo, progress) -> tuple[list, list]:
    from repro.steptime import lookup, store

    dev = torch.device(device)
    limit = memory_limit_gb * GB if memory_limit_gb else _default_limit(dev)
    rows, failures = [], []
    configs = distinct(runs)
    times = _step_times(configs, scale, device, timing and not mode.quick and not mode.one_update)
    keys = {c.label: _check_key(c, mode) for c in configs}
    bar = Progress([lookup(keys[c.label], device) for c in configs], enabled=progress)
    seconds, threads = {}, torch.get_num_threads()
    if dev.type == "cpu" and mode.one_update:
        torch.set_num_threads(1)  # batch-2 work: a second thread's synchronisation costs more than it saves
    try:
        for c in configs:
            t0 = time.perf_counter()
            row, why = _check_one(c, scale, dev, mode, memo, limit, times, gpu_speedup)
            rows.append(row)
            failures += why
            seconds[c.label] = time.perf_counter() - t0
            bar.done(why[0] if why else f"{c.label}: {row[-1]}; {row[2] and 'batch ' + row[2] + '; '}{row[3]}",
                     seconds[c.label])
    finally:
        torch.set_num_threads(threads)
        bar.close()
    for label, t in seconds.items():  # under the thread count the cache is read with
        store(keys[label], t, device)
    return rows, failures


def _check_one(c: Config, scale, dev, mode, memo, limit, times, gpu_speedup) -> tuple[list, list]:
    """One table row and the failure lines of one configuration."""
    check = CHECKS.get(c.cfg.get("task"))
    if check is None:
        why = _build_check(c.cfg)
        row = [c.label, len(c.runs), "", "toy task: resolves; not stepped (the smoke CI runs it)", "", "", "", "",
               "FAIL" if why else "ok"]
        return row, [f"{c.label}: {why}"] if why else []
    try:
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        r = check(c, scale, dev, mode, memo)
    except Exception as err:
        line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return [c.label, len(c.runs), "", "", "", "", "", "", "FAIL"], [f"{c.label}: {type(err).__name__}: {line}"]
    need = max(r["memory"].values()) if r["memory"] else 0.0
    stage = max(r["memory"], key=r["memory"].get) if r["memory"] else ""
    status, failures = "ok", []
    if need > limit:
        status = "FAIL"
        failures.append(f"{c.label}: evaluation needs {need / GB:.1f} GB ({stage}) at the protocol's counts, "
                        f"over the limit of {limit / GB:.1f} GB")
    sps, gpu_h = "", ""
    key = (r.get("arch"), r.get("resolution"), r.get("batch_size"), r.get("width"))
    if key in times and r.get("steps"):
        t = times[key]
        per = r["n_dis"] * t["t_d"] + t["t_g"]
        sps = f"{per:.3f}"
        speedup = 1.0 if dev.type == "cuda" else gpu_speedup
        gpu_h = f"{len(c.runs) * r['steps'] * per / 3600 / speedup:.1f}"
    batch = "" if r.get("batch") is None else f"{r['batch']} of {r['batch_size']}"
    return [c.label, len(c.runs), batch, f"{r['data']}; {r['check']}; eval {r['eval']}", f"{r['peak'] / GB:.2f}",
            f"{need / GB:.2f} ({stage})" if stage else "", sps, gpu_h, status], failures


class Progress:
    """Says how long the checks should take (from the seconds each took last time on this host, when the
    step-time cache has them all), then one line per finished configuration: what was checked, its seconds,
    done/total, elapsed and tqdm's estimate of the rest. A bar on a terminal, plain lines otherwise."""

    def __init__(self, expected: list, enabled: bool = True):
        from tqdm.auto import tqdm

        self.enabled, self.tty = enabled, sys.stderr.isatty()
        self.bar = tqdm(total=len(expected), unit="config", file=sys.stderr, disable=not (enabled and self.tty),
                        bar_format="{l_bar}{bar}| {n}/{total} [{elapsed}<{remaining}]")
        self.t0, self.n, self.total = time.perf_counter(), 0, len(expected)
        if not enabled:
            return
        known = [t for t in expected if t is not None]
        if len(known) == len(expected):
            say = f"expected: about {tqdm.format_interval(sum(known))} (each check's time at its last run here)"
        elif known:
            say = (f"expected: more than {tqdm.format_interval(sum(known))} ({len(known)} of {len(expected)} "
                   f"checks timed here before)")
        else:
            say = "expected: unknown (no check of this job timed on this host yet; the next run will say)"
        self.write(f"repro preflight: {len(expected)} configurations; {say}")

    def write(self, line: str) -> None:
        if self.tty:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def done(self, what: str, seconds: float) -> None:
        if not self.enabled:
            return
        self.n += 1
        if self.tty:
            self.bar.write(f"{what} ({seconds:.1f} s)", file=sys.stderr)
            self.bar.update(1)
            return
        meter = self.bar.format_meter(self.n, self.total, time.perf_counter() - self.t0,
                                      bar_format="[{n}/{total}, {elapsed} elapsed, ~{remaining} left]")
        print(f"{meter} {what} ({seconds:.1f} s)", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def _shape_row(cfg: dict, scale: str):
    from repro.core.image_gan import choose_architecture, resolve_recipe
    from repro.data import DATASETS

    if resolve_recipe(cfg).get("loss") == "real-data":
        return None
    source, _ = _source(cfg, scale)
    return (choose_architecture(cfg.get("architecture", "dcgan"), cfg["dataset"]), DATASETS[source].shape[-1],
            int(cfg["batch_size"]), cfg.get("width"))


def _default_limit(dev) -> float:
    import os

    import torch

    if dev.type == "cuda":
        return float(torch.cuda.get_device_properties(dev).total_memory)
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


HEADERS = ["configuration", "runs", "batch", "checked", "peak GB here", "eval GB (protocol)", "s/step here",
           "GPU-h (training)", "status"]


def cmd_preflight(args) -> int:
    from tabulate import tabulate

    from repro.spec import expand, find_job

    spec = find_job(args.job)
    split = (lambda v: [x for item in v for x in item.split(",") if x] if v else None)
    runs = expand(spec, args.scale, split(args.method), split(args.dataset))
    mode = Mode.resolve(args.device, args.batch, args.quick, args.full)
    print(f"{spec.id} · scale {args.scale} · {len(runs)} runs in {len(distinct(runs))} distinct configurations "
          f"(seeds and learning rates share one) · device {args.device} · {mode.name()}", flush=True)
    t0 = time.perf_counter()
    rows, failures = preflight(runs, args.scale, args.device, args.batch, args.quick, args.memory_limit_gb,
                               timing=not args.no_timing, gpu_speedup=args.gpu_speedup, full=args.full,
                               progress=True)
    print(tabulate(rows, headers=HEADERS))
    timed = mode.quick or mode.one_update
    print("batch: what each check's steps ran at, of the job's batch"
          + (" (one D update per step; `--full` runs the job's batch and n_dis)" if mode.one_update else "")
          + "; eval GB: the largest evaluation stage at the protocol's counts (repro/preflight.py eval_memory); "
          + ("s/step: from the step-time cache (`repro plan JOB` fills it), not timed here; " if timed else "")
          + f"GPU-h: runs × steps × s/step / 3600, on a CPU divided by an assumed {args.gpu_speedup:g}× GPU "
          f"speed-up; {time.perf_counter() - t0:.0f} s")
    for line in failures:
        print(f"repro: preflight failed: {line}", file=sys.stderr)
    return 1 if failures else 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("preflight", help="build, step and evaluate every distinct configuration of a job once")
    p.add_argument("job")
    p.add_argument("--scale", default="paper", choices=["smoke", "cpu", "paper"])
    p.add_argument("--dataset", action="append", help="only these datasets (name or unique prefix)")
    p.add_argument("--method", action="append", help="only these methods")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--batch", type=int, help=f"take the two steps at this batch with the recipe's n_dis (default: "
                   f"{CPU_BATCH} with one D update per step on a CPU, the job's batch on a GPU)")
    p.add_argument("--full", action="store_true", help="the job's batch and n_dis, and the step timing, on a CPU too")
    p.add_argument("--quick", action="store_true", help="each network once at batch 2, analytic memory, no timing (CI)")
    p.add_argument("--memory-limit-gb", type=float, help="fail a configuration whose evaluation needs more "
                   "(default: the GPU's memory with --device cuda, else this host's RAM)")
    p.add_argument("--no-timing", action="store_true", help="skip the step timing (s/step, GPU-h)")
    p.add_argument("--gpu-speedup", type=float, default=50.0, help="for the GPU-hour column on a CPU (an assumption)")
    p.set_defaults(func=cmd_preflight)
    return p
