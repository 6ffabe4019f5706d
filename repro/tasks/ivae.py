"""000 Table 3 and Figs. 5-7: train one VAE-family model on binarized digits, then evaluate it.

``run(cfg, ctx)`` reads (defaults in DEFAULTS; 000 §4.2 values marked there):
  cfg['method']              one of repro.core.vae.METHODS (vae, stein-vae, ..., info-ivae-dk)
  cfg['dataset'], cfg['dataset_substitute']  binarized-mnist, or the stand-in when it is absent
  cfg['seed']
  cfg['epochs'] / cfg['max_steps']  training length (max_steps caps it: smoke/cpu scales)
  cfg['train']               {batch_size: 32, z_samples: 32, lr: 0.002, kernel_lr: 0.001, momentum: 0.9}
  cfg['model']               optional {alpha, lam} (000 eqs. 1 and 15; unstated in 000)
  cfg['evaluate']            any of: nll (Table 3), images (Fig. 5), tsne (Fig. 6), svm (Fig. 7)
  cfg['ais']                 {examples: 5000, chains: 10, steps: 1000, leapfrog: 10}  (000 §4.2);
                             doubling_check: true also runs AIS at 2×chains and 2×steps on the same test
                             points (metric nll_doubled): the estimate's own convergence check;
                             next_rung_examples: m or [m1, m2, ...] (with doubling_check, each at most
                             the one before): rung k's check runs AIS at 2^(k+1)×chains and steps on the
                             first m_k points, against the 2^k× values on the same points (k = 1:
                             nll_quadrupled_sub against nll_doubled_sub; k = 2: nll_octupled_sub2 against
                             nll_quadrupled_sub2): the next rungs' checks, without retraining
  cfg['early_stopping']      optional {validation_images, every_epochs, ais: {chains, steps, leapfrog}}:
                             model selection on a held-out split of the training images (see Selection)
  cfg['svm']                 {labels: [100, 600, 1000, 3000], max_train: 10000}
  cfg['tsne']                {examples: 2000}
Returns metrics: nll (−AIS log p(x), nats), nll_doubled (with doubling_check), the rung checks' pairs
(with next_rung_examples, see ``rung_metric_names``), best_epoch (with
early_stopping), svm_acc_<n> per label count; curve: the validation points {step, epoch, val_nll} (with
early_stopping); artifacts: recon_gen.png, tsne.png, svm.png, latents.pt. Training checkpoints at epoch
ends (model, optimisers, epoch, step, and the validation curve and best weights); the data order of
epoch e is drawn from a generator seeded by (seed, e), so resume is exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from repro.core.vae import METHODS, VAEFamily
from repro.metrics.ais import ais_log_likelihood
from repro.runtime import Diverged, seed_everything

DEFAULTS = {
    "train": {"batch_size": 32, "z_samples": 32, "lr": 0.002, "kernel_lr": 0.001, "momentum": 0.9},  # 000 §4.2
    "ais": {"examples": 5000, "chains": 10, "steps": 1000, "leapfrog": 10},  # 000 §4.2 (Wu et al. 2016)
    "svm": {"labels": [100, 600, 1000, 3000], "max_train": 10000},  # Kingma et al. 2014 label counts
    "tsne": {"examples": 2000},
    "images": {"count": 16},
    # ours (000 trains a fixed 300 epochs and states no model selection): see Selection
    "early_stopping": {"validation_images": 500, "every_epochs": 1, "ais": {"chains": 1, "steps": 100, "leapfrog": 2}},
}
AIS_KEYS = {"examples", "chains", "steps", "leapfrog", "doubling_check", "next_rung_examples"}
EARLY_STOPPING_KEYS = {"validation_images", "every_epochs", "ais"}
# Fixed, independent of the training seed: every seed and method holds out the same validation images,
# the validation AIS reuses the same chain noise at every epoch (common random numbers: epochs differ
# only by their weights), and every seed and method is scored on the same test points (the methods'
# differences are paired, and the seed spread holds no test-subset sampling noise).
VALIDATION_SPLIT_SEED = 0
VALIDATION_AIS_SEED = 0
TEST_SUBSET_SEED = 0
EVALUATIONS = ("nll", "images", "tsne", "svm")
PROGRESS_EVERY = 10


def _opts(cfg: dict, key: str) -> dict:
    return {**DEFAULTS[key], **(cfg.get(key) or {})}


# ----------------------------------------------------------------------------- data
def resolve_dataset(cfg: dict) -> tuple[str, bool]:
    """(dataset actually used, stand-in?): the spec's dataset when its files exist, else the substitute."""
    from repro.data import DatasetMissing, get_dataset, get_spec

    name, substitute = cfg["dataset"], cfg.get("dataset_substitute")
    try:
        get_dataset(name, "train")
    except DatasetMissing:
        if not substitute:
            raise
        name = substitute
    return name, bool(getattr(get_spec(name), "stand_in", False)) or name != cfg["dataset"]


def load_split(name: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """All images of a split as one [N, D] float tensor in {0, 1}, and the labels."""
    from repro.data import get_dataset

    ds = get_dataset(name, split)
    fetch_all = getattr(ds, "__getitems__", None)  # the data package's batched fetch, when present
    items = fetch_all(list(range(len(ds)))) if fetch_all else [ds[i] for i in range(len(ds))]
    xs, ys = zip(*items)
    x = torch.stack(xs).flatten(1).float()
    if x.min() < 0:  # images in [-1, 1]: back to [0, 1]
        x = (x + 1) / 2
    return x, torch.as_tensor(ys)


def _test_split(name: str) -> str:
    from repro.data import get_spec

    return "test" if "test" in get_spec(name).splits else get_spec(name).splits[-1]


# ----------------------------------------------------------------------------- AIS and model selection
def ais_nll_per_point(model: VAEFamily, x: torch.Tensor, chains: int, steps: int, leapfrog: int,
                      seed: int) -> torch.Tensor:
    """−AIS log p(x), one value per row of x (nats; 000 §4.2, Wu et al. 2016). Touches no global RNG."""
    model.requires_grad_(False)
    try:
        log_px = ais_log_likelihood(x, model.log_likelihood, model.latent_dim, num_chains=chains,
                                    num_steps=steps, leapfrog_steps=leapfrog, seed=seed)
    finally:
        model.requires_grad_(True)
    return -log_px


def ais_nll(model: VAEFamily, x: torch.Tensor, chains: int, steps: int, leapfrog: int, seed: int) -> float:
    """−mean AIS log p(x) over the rows of x (nats)."""
    return float(ais_nll_per_point(model, x, chains, steps, leapfrog, seed).mean())


def validation_split(n: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(training indices, validation indices): ``count`` of the n training images held out, drawn by a
    generator seeded with VALIDATION_SPLIT_SEED (the same split for every training seed)."""
    if not 1 <= count < n:
        raise ValueError(f"ivae: early_stopping.validation_images must lie in [1, {n - 1}] "
                         f"(the split has {n} training images), got {count}.")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(VALIDATION_SPLIT_SEED))
    return order[count:].sort().values, order[:count].sort().values


def best_point(curve: list[dict]) -> dict:
    """The validation point of lowest val_nll; the earliest of equal ones (fewer epochs, same score)."""
    if not curve:
        raise ValueError("ivae: no validation point to select from.")
    return min(curve, key=lambda p: (p["val_nll"], p["epoch"]))


@dataclass
class Selection:
    """Early stopping as model selection (ours; 000 trains a fixed 300 epochs and states none).

    Training runs its full fixed length; every ``every`` epochs (and at the last) the model is scored
    by val_nll, −mean AIS log p(x) on the held-out images ``x_val`` at the cheap ``ais`` setting, with
    the same AIS noise each time; the weights of the best-scoring epoch are kept and are what the
    test AIS evaluates. Scoring draws only from its own generator, so the training trajectory is the
    one without selection. The curve and best weights travel in the checkpoint: resume stays exact.
    """
    x_val: torch.Tensor
    every: int
    ais: dict
    curve: list = field(default_factory=list)
    best_state: dict | None = None

    def observe(self, model: VAEFamily, epoch: int, step: int) -> None:
        score = ais_nll(model, self.x_val.to(next(model.parameters()).device), self.ais["chains"],
                        self.ais["steps"], self.ais["leapfrog"], VALIDATION_AIS_SEED)
        self.curve.append({"step": step, "epoch": epoch, "val_nll": score})
        if best_point(self.curve) is self.curve[-1]:
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def due(self, epoch: int, last: bool) -> bool:
        return last or epoch % self.every == 0

    def best(self) -> dict:
        return best_point(self.curve)

    def state(self) -> dict:
        return {"curve": list(self.curve), "best_state": self.best_state}

    def load(self, state: dict) -> None:
        self.curve, self.best_state = list(state["curve"]), state["best_state"]


def early_stopping_opts(cfg: dict) -> dict | None:
    """The early_stopping config merged over DEFAULTS, or None when the spec asks for none."""
    given = cfg.get("early_stopping")
    if not given:
        return None
    unknown = set(given) - EARLY_STOPPING_KEYS
    if unknown:
        raise ValueError(f"ivae: unknown early_stopping key(s) {sorted(unknown)}; "
                         f"choose from {', '.join(sorted(EARLY_STOPPING_KEYS))}.")
    default = DEFAULTS["early_stopping"]
    opts = {**default, **given, "ais": {**default["ais"], **(given.get("ais") or {})}}
    if int(opts["every_epochs"]) < 1 or min(int(opts["ais"][k]) for k in ("chains", "steps", "leapfrog")) < 1:
        raise ValueError("ivae: early_stopping.every_epochs and its ais chains, steps, leapfrog must be >= 1.")
    return opts


def split_for_selection(x_train: torch.Tensor, cfg: dict) -> tuple[torch.Tensor, Selection | None]:
    """(images to train on, the Selection that scores the held-out rest), or (x_train, None)."""
    opts = early_stopping_opts(cfg)
    if opts is None:
        return x_train, None
    train_idx, val_idx = validation_split(len(x_train), int(opts["validation_images"]))
    return x_train[train_idx], Selection(x_train[val_idx], int(opts["every_epochs"]), opts["ais"])


# ----------------------------------------------------------------------------- training
def build_optimizers(model: VAEFamily, train: dict) -> list[torch.optim.Optimizer]:
    """SGD with momentum 0.9; lr 0.002 for encoder and decoder, 0.001 for the kernel (000 §4.2)."""
    opts = [torch.optim.SGD(model.model_parameters(), lr=train["lr"], momentum=train["momentum"])]
    if model.kernel_parameters():
        opts.append(torch.optim.SGD(model.kernel_parameters(), lr=train["kernel_lr"], momentum=train["momentum"]))
    return opts


def train_model(model: VAEFamily, x_train: torch.Tensor, cfg: dict, ctx, selection: Selection | None = None) -> int:
    """Train for the fixed length of the spec; with a Selection, score the model at its epochs."""
    train = _opts(cfg, "train")
    epochs = int(cfg.get("epochs", 0))
    if epochs < 1:
        raise ValueError("ivae: config needs 'epochs' >= 1 (000 §4.2: 300 at scale paper).")
    max_steps = int(cfg.get("max_steps") or 0)
    steps_per_epoch = math.ceil(len(x_train) / train["batch_size"])
    total = epochs * steps_per_epoch if not max_steps else min(max_steps, epochs * steps_per_epoch)
    optimizers = build_optimizers(model, train)
    epoch, step = 0, 0
    saved = ctx.load_checkpoint()
    if saved is not None:
        model.load_state_dict(saved["model"])
        for opt, state in zip(optimizers, saved["optimizers"]):
            opt.load_state_dict(state)
        epoch, step = saved["epoch"], saved["step"]
        if selection is not None and saved.get("selection"):
            selection.load(saved["selection"])
    while step < total:
        order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(cfg["seed"] * 100003 + epoch))
        for start in range(0, len(x_train), train["batch_size"]):
            if step >= total:
                break
            x = x_train[order[start:start + train["batch_size"]]].to(ctx.device)
            loss, stats = model.loss(x, train["z_samples"])
            if not torch.isfinite(loss):
                raise Diverged(f"{model.method}: non-finite loss at step {step}")
            for opt in optimizers:
                opt.zero_grad()
            loss.backward()  # the loss is the negated objective: descent on it is ascent for φ, θ and ψ alike
            for opt in optimizers:
                opt.step()
            step += 1
            if step % PROGRESS_EVERY == 0 or step == total:
                ctx.progress(step, total, loss=loss.item(), **stats)
        epoch += 1
        if selection is not None and selection.due(epoch, last=step >= total):
            selection.observe(model, epoch, step)
        if ctx.checkpoint_every:  # at every epoch end (resume restarts at an epoch boundary)
            ctx.save_checkpoint({"model": model.state_dict(), "optimizers": [o.state_dict() for o in optimizers],
                                 "epoch": epoch, "step": step,
                                 "selection": None if selection is None else selection.state()})
    return step


# ----------------------------------------------------------------------------- evaluations
def ais_opts(cfg: dict) -> dict:
    ais = _opts(cfg, "ais")
    unknown = set(ais) - AIS_KEYS
    if unknown:
        raise ValueError(f"ivae: unknown ais key(s) {sorted(unknown)}; choose from {', '.join(sorted(AIS_KEYS))}.")
    rungs = next_rung_examples(ais)
    limit = ais["examples"]
    for m in rungs:
        if not (ais.get("doubling_check") and isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= limit):
            raise ValueError(f"ivae: ais.next_rung_examples must be whole numbers, each in [1, examples = "
                             f"{ais['examples']}] and at most the one before, and needs doubling_check: true; "
                             f"got {ais.get('next_rung_examples')!r}.")
        limit = m
    return ais


def next_rung_examples(ais: dict) -> list:
    """The spec's ``next_rung_examples`` as a list (a single number is one rung)."""
    m = ais.get("next_rung_examples")
    return [] if m is None else list(m) if isinstance(m, (list, tuple)) else [m]


_FACTOR_WORDS = {2: "doubled", 4: "quadrupled", 8: "octupled"}


def rung_metric_names(k: int) -> tuple[str, str]:
    """(the 2^k× value, the 2^(k+1)× value) on rung k's check points (k = 1, 2, ...): the metrics the
    spec's ``table.estimate_ladder`` names as a rung's ``check`` and ``doubled``."""
    suffix = "_sub" if k == 1 else f"_sub{k}"
    word = lambda f: _FACTOR_WORDS.get(f, f"x{f}")  # noqa: E731
    return f"nll_{word(2 ** k)}{suffix}", f"nll_{word(2 ** (k + 1))}{suffix}"


def evaluate_nll(model: VAEFamily, x_test: torch.Tensor, cfg: dict, device) -> tuple[dict, str]:
    """{nll[, nll_doubled[, the rung checks' pairs]]}: −mean AIS log p(x) on a random subset of the test
    split (000 §4.2: 5000 points, 10 chains × 1000 intermediate distributions), the same subset for every
    seed and method.

    With ``doubling_check`` AIS runs again at twice the chains and twice the intermediate distributions
    on the same points: when the setting suffices, the two estimates agree within the seed spread. Each
    entry m_k of ``next_rung_examples`` runs AIS once more, at 2^(k+1) times both on the first m_k points,
    and keeps the 2^k-times values of the same points beside it, so that each doubled setting can be
    checked in turn without retraining, should the check below it fail."""
    ais = ais_opts(cfg)
    pick = torch.randperm(len(x_test), generator=torch.Generator().manual_seed(TEST_SUBSET_SEED))[:ais["examples"]]
    x = x_test[pick].to(device)
    chains, steps, leapfrog, seed = ais["chains"], ais["steps"], ais["leapfrog"], cfg["seed"]
    metrics = {"nll": ais_nll(model, x, chains, steps, leapfrog, seed)}
    note = (f"NLL by AIS: {len(x)} test points, {chains} chains x {steps} intermediate "
            f"distributions, {leapfrog} leapfrog steps")
    if ais.get("doubling_check"):
        below = ais_nll_per_point(model, x, 2 * chains, 2 * steps, leapfrog, seed)
        metrics["nll_doubled"] = float(below.mean())
        note += (f"; doubling check: {2 * chains} x {2 * steps} gives {metrics['nll_doubled']:.3f} "
                 f"against {metrics['nll']:.3f} (moved {metrics['nll_doubled'] - metrics['nll']:+.3f} nats)")
        for k, m in enumerate(next_rung_examples(ais), start=1):
            factor = 2 ** (k + 1)
            now, then = rung_metric_names(k)
            above = ais_nll_per_point(model, x[:m], factor * chains, factor * steps, leapfrog, seed)
            metrics[now], metrics[then] = float(below[:m].mean()), float(above.mean())
            note += (f"; rung check {k} on the first {m} points: {factor * chains} x {factor * steps} gives "
                     f"{metrics[then]:.3f} against {metrics[now]:.3f}")
            below = above
    return metrics, note


def save_image_grid(model: VAEFamily, x_test: torch.Tensor, cfg: dict, path) -> None:
    """Fig. 5: test digits, their reconstructions, and samples from the prior (rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = _opts(cfg, "images")["count"]
    side = int(round(math.sqrt(x_test.shape[1])))
    device = next(model.parameters()).device
    x = x_test[:n].to(device)
    rows = {"data": x, "reconstruction": model.reconstruct(x), "generated": model.generate(n)}
    fig, axes = plt.subplots(len(rows), 1, figsize=(n * 0.6, len(rows) * 0.9))
    for ax, (title, imgs) in zip(axes, rows.items()):
        strip = imgs.cpu().view(n, side, side).permute(1, 0, 2).reshape(side, n * side)
        ax.imshow(strip.numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def save_tsne(z: torch.Tensor, labels: torch.Tensor, title: str, path, seed: int) -> None:
    """Fig. 6: 2-D t-SNE (scikit-learn) of latent codes, coloured by digit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    emb = TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, (len(z) - 1) / 3)).fit_transform(
        z.cpu().numpy())
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    sc = ax.scatter(emb[:, 0], emb[:, 1], c=labels.numpy(), cmap="tab10", s=4)
    ax.legend(*sc.legend_elements(), fontsize=6, loc="best", title="digit", title_fontsize=6)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def balanced_subset(labels: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """n indices with (as near as possible) equal counts per class, as Kingma et al. (2014)."""
    classes = labels.unique()
    per = [n // len(classes) + (1 if i < n % len(classes) else 0) for i in range(len(classes))]
    picks = []
    for c, k in zip(classes.tolist(), per):
        idx = (labels == c).nonzero().flatten()
        picks.append(idx[torch.randperm(len(idx), generator=generator)[:k]])
    return torch.cat(picks)


def svm_accuracies(z_train, y_train, z_test, y_test, label_counts, seed) -> dict[int, float]:
    """Fig. 7 (000 App. D): an RBF SVM (scikit-learn defaults) on n labelled latent codes; test accuracy."""
    from sklearn.svm import SVC

    out = {}
    for n in label_counts:
        if n > len(z_train):
            continue
        idx = balanced_subset(y_train, n, torch.Generator().manual_seed(seed))
        clf = SVC().fit(z_train[idx].numpy(), y_train[idx].numpy())
        out[n] = float((clf.predict(z_test.numpy()) == y_test.numpy()).mean())
    return out


def save_svm_plot(acc: dict[int, float], title: str, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(list(acc), list(acc.values()), marker="o")
    ax.set_xscale("log")
    ax.set_xlabel("labelled examples")
    ax.set_ylabel("SVM test accuracy")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@torch.no_grad()
def embed_all(model: VAEFamily, x: torch.Tensor, device, batch: int = 500) -> torch.Tensor:
    return torch.cat([model.embed(x[i:i + batch].to(device)).cpu() for i in range(0, len(x), batch)])


# ----------------------------------------------------------------------------- entry point
def run(cfg: dict, ctx) -> dict:
    method = cfg["method"]
    if method not in METHODS:
        raise ValueError(f"ivae: method '{method}' is not one of {', '.join(METHODS)}.")
    evaluations = list(cfg.get("evaluate", ["nll"]))
    unknown = [e for e in evaluations if e not in EVALUATIONS]
    if unknown:
        raise ValueError(f"ivae: unknown evaluation(s) {unknown}; choose from {', '.join(EVALUATIONS)}.")
    seed_everything(int(cfg["seed"]))
    source, stand_in = resolve_dataset(cfg)
    x_train, y_train = load_split(source, "train")
    x_test, y_test = load_split(source, _test_split(source))
    labelled = [e for e in evaluations if e in ("tsne", "svm")]
    if labelled and (y_train < 0).all():  # before training: 300 epochs would end in an SVM error
        raise ValueError(f"ivae: {', '.join(labelled)} need class labels, and dataset '{source}' has none; "
                         f"use a labelled set (binarized-mnist-labelled).")
    model_opts = cfg.get("model") or {}
    model = VAEFamily(method, x_train.shape[1], alpha=model_opts.get("alpha"), lam=model_opts.get("lam")).to(ctx.device)
    x_fit, selection = split_for_selection(x_train, cfg)
    ais_opts(cfg)  # a bad ais key fails before training
    steps = train_model(model, x_fit, cfg, ctx, selection)
    metrics, notes, out = {}, [], {}
    if selection is not None:
        best = selection.best()
        model.load_state_dict(selection.best_state)
        metrics["best_epoch"] = best["epoch"]
        out["curve"] = selection.curve
        notes.append(f"early stopping: trained {selection.curve[-1]['epoch']} epochs on {len(x_fit)} images; "
                     f"evaluated the weights of epoch {best['epoch']} (step {best['step']}), the lowest "
                     f"validation NLL {best['val_nll']:.3f} on {len(selection.x_val)} held-out images"
                     + (" (the last epoch validated: the validation NLL had not turned)" if best is selection.curve[-1] else ""))
    if stand_in:
        notes.append(f"STAND-IN data: trained and evaluated on {source}, not {cfg['dataset']}")
    label = f"{method} ({source}{', stand-in' if stand_in else ''})"
    if "nll" in evaluations:
        nll, note = evaluate_nll(model, x_test, cfg, ctx.device)
        metrics.update(nll)
        notes.append(note)
    if "images" in evaluations:
        save_image_grid(model, x_test, cfg, ctx.artifact("recon_gen.png"))
    if "tsne" in evaluations or "svm" in evaluations:
        z_test = embed_all(model, x_test, ctx.device)
        torch.save({"z_test": z_test, "y_test": y_test}, ctx.artifact("latents.pt"))
    if "tsne" in evaluations:
        n = _opts(cfg, "tsne")["examples"]
        save_tsne(z_test[:n], y_test[:n], f"t-SNE of latents: {label}", ctx.artifact("tsne.png"), cfg["seed"])
    if "svm" in evaluations:
        svm = _opts(cfg, "svm")
        z_train = embed_all(model, x_train[:svm["max_train"]], ctx.device)
        acc = svm_accuracies(z_train, y_train[:svm["max_train"]], z_test, y_test, svm["labels"], cfg["seed"])
        metrics.update({f"svm_acc_{n}": a for n, a in acc.items()})
        save_svm_plot(acc, f"SVM on latents: {label}", ctx.artifact("svm.png"))
    return {"metrics": metrics, "steps": steps, "notes": notes, **out}
