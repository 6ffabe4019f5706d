"""000 Table 3 and Figs. 5-7: train one VAE-family model on binarized digits, then evaluate it.

``run(cfg, ctx)`` reads (defaults in DEFAULTS; 000 §4.2 values marked there):
  cfg['method']              one of repro.core.vae.METHODS (vae, stein-vae, ..., info-ivae-dk)
  cfg['dataset'], cfg['dataset_substitute']  binarized-mnist, or the stand-in when it is absent
  cfg['seed']
  cfg['epochs'] / cfg['max_steps']  training length (max_steps caps it: smoke/cpu scales)
  cfg['train']               {batch_size: 32, z_samples: 32, lr: 0.002, kernel_lr: 0.001, momentum: 0.9}
  cfg['model']               optional {alpha, lam} (000 eqs. 1 and 15; unstated in 000)
  cfg['evaluate']            any of: nll (Table 3), images (Fig. 5), tsne (Fig. 6), svm (Fig. 7)
  cfg['ais']                 {examples: 5000, chains: 10, steps: 1000, leapfrog: 10}  (000 §4.2)
  cfg['svm']                 {labels: [100, 600, 1000, 3000], max_train: 10000}
  cfg['tsne']                {examples: 2000}
Returns metrics: nll (−AIS log p(x), nats), svm_acc_<n> per label count; artifacts: recon_gen.png,
tsne.png, svm.png, latents.pt. Training checkpoints at epoch ends (model, optimisers, epoch, step);
the data order of epoch e is drawn from a generator seeded by (seed, e), so resume is exact.
"""
from __future__ import annotations

import math

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
}
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


# ----------------------------------------------------------------------------- training
def build_optimizers(model: VAEFamily, train: dict) -> list[torch.optim.Optimizer]:
    """SGD with momentum 0.9; lr 0.002 for encoder and decoder, 0.001 for the kernel (000 §4.2)."""
    opts = [torch.optim.SGD(model.model_parameters(), lr=train["lr"], momentum=train["momentum"])]
    if model.kernel_parameters():
        opts.append(torch.optim.SGD(model.kernel_parameters(), lr=train["kernel_lr"], momentum=train["momentum"]))
    return opts


def train_model(model: VAEFamily, x_train: torch.Tensor, cfg: dict, ctx) -> int:
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
        if ctx.checkpoint_every:  # at every epoch end (resume restarts at an epoch boundary)
            ctx.save_checkpoint({"model": model.state_dict(), "optimizers": [o.state_dict() for o in optimizers],
                                 "epoch": epoch, "step": step})
    return step


# ----------------------------------------------------------------------------- evaluations
def evaluate_nll(model: VAEFamily, x_test: torch.Tensor, cfg: dict, device) -> tuple[float, str]:
    """−mean AIS log p(x) on a random subset of the test split (000 §4.2: 5000 points, 10×1000)."""
    ais = _opts(cfg, "ais")
    pick = torch.randperm(len(x_test), generator=torch.Generator().manual_seed(cfg["seed"]))[:ais["examples"]]
    x = x_test[pick].to(device)
    model.requires_grad_(False)
    log_px = ais_log_likelihood(x, model.log_likelihood, model.latent_dim, num_chains=ais["chains"],
                                num_steps=ais["steps"], leapfrog_steps=ais["leapfrog"], seed=cfg["seed"])
    model.requires_grad_(True)
    note = (f"NLL by AIS: {len(x)} test points, {ais['chains']} chains x {ais['steps']} intermediate "
            f"distributions, {ais['leapfrog']} leapfrog steps")
    return float(-log_px.mean()), note


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
    steps = train_model(model, x_train, cfg, ctx)
    metrics, notes = {}, []
    if stand_in:
        notes.append(f"STAND-IN data: trained and evaluated on {source}, not {cfg['dataset']}")
    label = f"{method} ({source}{', stand-in' if stand_in else ''})"
    if "nll" in evaluations:
        metrics["nll"], note = evaluate_nll(model, x_test, cfg, ctx.device)
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
    return {"metrics": metrics, "steps": steps, "notes": notes}
