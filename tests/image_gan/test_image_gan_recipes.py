"""Method name → recipe → losses and settings, checked against brute-force formulas of the seeds."""
from __future__ import annotations

import math

import pytest
import torch
import yaml
from torch.nn.utils import parametrize

from repro.core.image_gan import ImageGAN, build_objective, resolve_recipe
from repro.core.spectral import LearnableScale, PICONorm
from repro.spec import METHODS_FILE

RECIPES = yaml.safe_load(METHODS_FILE.read_text())
IMAGE_METHODS = sorted(m for m, r in RECIPES.items() if r.get("family") == "image-gan")
SIGMAS_003 = (1.0, math.sqrt(2), 2.0, 2 * math.sqrt(2), 4.0)  # 003 §5.1
IDENTITY = lambda t: t  # noqa: E731  "discriminator" returning its input: losses act on given features


def k_rbf(a, b, sigmas=(1.0,)):
    return sum(math.exp(-sum((ai - bi) ** 2 for ai, bi in zip(a, b)) / (2 * s * s)) for s in sigmas)


def k_rq(a, b, alphas=(0.2, 0.5, 1.0, 2.0, 5.0)):
    d2 = sum((ai - bi) ** 2 for ai, bi in zip(a, b))
    return sum((1 + d2 / (2 * al)) ** (-al) for al in alphas)


def means_loop(x, y, k, clip_xx=None, clip_yy=None, clip_xy=None):
    """Unbiased E k(x,x'), E k(y,y') (i ≠ j) and E k(x,y) by explicit loops, with optional d² clipping."""
    def kk(a, b, clip):
        if clip is None:
            return k(a, b)
        d2 = clip(sum((ai - bi) ** 2 for ai, bi in zip(a, b)))
        return math.exp(-d2 / 2)
    x, y = x.tolist(), y.tolist()
    n, m = len(x), len(y)
    xx = sum(kk(x[i], x[j], clip_xx) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(kk(y[i], y[j], clip_yy) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(kk(x[i], y[j], clip_xy) for i in range(n) for j in range(m)) / (n * m)
    return xx, yy, xy


def l_d_lambda(lam, xx, yy, xy):  # 003 eq. 5
    return lam * xx - (lam - 1) * xy - yy


@pytest.fixture
def feats():
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 3, generator=g, dtype=torch.float64), 1.5 * torch.randn(5, 3, generator=g, dtype=torch.float64) + 0.5


def test_every_image_method_builds():
    assert len(IMAGE_METHODS) >= 30
    for m in IMAGE_METHODS:
        recipe = resolve_recipe({"method": m, "recipe": RECIPES[m]})
        if recipe["loss"] != "real-data":
            build_objective(recipe, int(recipe.get("out_dim", 1)))


@pytest.mark.parametrize("method,lam,kernel", [
    ("mmd-rbf", -1, lambda a, b: k_rbf(a, b, SIGMAS_003)), ("mmd-rq", -1, k_rq), ("mmd-rep", 1, k_rbf),
    ("mmd-rep-16", 1, k_rbf), ("sn-mmd-gan", -1, lambda a, b: k_rbf(a, b, SIGMAS_003)), ("rep-gan", 1, k_rbf)])
def test_mmd_losses_match_loops(method, lam, kernel, feats):
    x, y = feats
    obj = build_objective(resolve_recipe({"method": method, "recipe": RECIPES[method]}), 3)
    xx, yy, xy = means_loop(x, y, kernel)
    assert float(obj.d_loss(IDENTITY, x, y)) == pytest.approx(l_d_lambda(lam, xx, yy, xy), rel=1e-9)
    assert float(obj.g_loss(IDENTITY, x, y)) == pytest.approx(xx + yy - 2 * xy, rel=1e-9)  # 003 eq. 2


def test_bounded_kernels_follow_003_eqs_6_and_7(feats):
    x, y = feats
    lower, upper = (lambda d2: max(d2, 0.25)), (lambda d2: min(d2, 4.0))
    rbf_b = build_objective(resolve_recipe({"method": "mmd-rbf-b", "recipe": RECIPES["mmd-rbf-b"]}), 3)
    xx, yy, xy = means_loop(x, y, None, clip_xx=lower, clip_yy=lower, clip_xy=upper)  # eq. 6
    assert float(rbf_b.d_loss(IDENTITY, x, y)) == pytest.approx(l_d_lambda(-1, xx, yy, xy), rel=1e-9)
    rep_b = build_objective(resolve_recipe({"method": "mmd-rep-b", "recipe": RECIPES["mmd-rep-b"]}), 3)
    xx, yy, xy = means_loop(x, y, None, clip_xx=upper, clip_yy=lower, clip_xy=upper)  # eq. 7 (xy weight 0)
    assert float(rep_b.d_loss(IDENTITY, x, y)) == pytest.approx(l_d_lambda(1, xx, yy, xy), rel=1e-9)
    # the generator always uses the plain RBF (003 §4.1)
    pxx, pyy, pxy = means_loop(x, y, k_rbf)
    assert float(rep_b.g_loss(IDENTITY, x, y)) == pytest.approx(pxx + pyy - 2 * pxy, rel=1e-9)


def test_lambda_axis_overrides_recipe(feats):
    x, y = feats
    recipe = resolve_recipe({"method": "mmd-lambda-rbf", "recipe": RECIPES["mmd-lambda-rbf"], "axes": {"lambda": 0.5}})
    xx, yy, xy = means_loop(x, y, k_rbf)
    assert float(build_objective(recipe, 3).d_loss(IDENTITY, x, y)) == pytest.approx(l_d_lambda(0.5, xx, yy, xy))


def test_classic_losses_match_003_appendix_b1():
    dx, dy = torch.tensor([[0.3], [-1.2], [2.0]]), torch.tensor([[0.1], [1.5], [-0.4]])
    sp = lambda t: math.log1p(math.exp(t))  # noqa: E731
    ns = build_objective(resolve_recipe({"method": "non-saturating", "recipe": RECIPES["non-saturating"]}), 1)
    want_d = sum(sp(-v) for v in dx.flatten().tolist()) / 3 + sum(sp(v) for v in dy.flatten().tolist()) / 3
    assert float(ns.d_loss(IDENTITY, dx, dy)) == pytest.approx(want_d, rel=1e-6)
    assert float(ns.g_loss(IDENTITY, dx, dy)) == pytest.approx(sum(sp(-v) for v in dy.flatten().tolist()) / 3, rel=1e-6)
    hinge = build_objective(resolve_recipe({"method": "hinge", "recipe": RECIPES["hinge"]}), 1)
    want = sum(max(0, 1 - v) for v in dx.flatten().tolist()) / 3 + sum(max(0, 1 + v) for v in dy.flatten().tolist()) / 3
    assert float(hinge.d_loss(IDENTITY, dx, dy)) == pytest.approx(want, rel=1e-6)
    assert float(hinge.g_loss(IDENTITY, dx, dy)) == pytest.approx(-float(dy.mean()), rel=1e-6)


# Settings the seeds state, per method (003 §5.1 / App. C-D; 000 §4.1; 004 §5.4).
EXPECTED = {
    **{m: dict(out_dim=16, lipschitz="pico", noise="normal", n_dis=1, betas=[0.5, 0.999])
       for m in ("mmd-rbf", "mmd-rq", "mmd-rbf-b", "mmd-rep", "mmd-rep-b")},
    **{m: dict(out_dim=1, lipschitz="pico", noise="normal", n_dis=1) for m in ("non-saturating", "hinge")},
    "mmd-rep-gp": dict(out_dim=1, lipschitz="none", gp_lambda=None),
    "mmd-rep-1": dict(out_dim=1, coeff_total=64), "mmd-rep-4": dict(out_dim=4, coeff_total=64),
    "mmd-rep-16": dict(out_dim=16, coeff_total=32), "mmd-rep-64": dict(out_dim=64, coeff_total=32),
    "mmd-rep-256": dict(out_dim=256, coeff_total=32),
    "sn-mmd-gan-dk": dict(out_dim=1, n_dis=5, betas=[0.5, 0.9], noise="uniform", kernel="dk", kernel_lr_ratio=0.01),
    "sn-smmd-gan-dk": dict(out_dim=1, n_dis=5, betas=[0.5, 0.9], lipschitz="spectral-param", kernel="dk"),
    "rep-gan-dk": dict(out_dim=16, n_dis=1, betas=[0.5, 0.999], kernel="dk", kernel_lr_ratio=0.5),
    "sn-mmd-gan-ikl": dict(kernel="ikl"), "sn-smmd-gan-ikl": dict(kernel="ikl"), "rep-gan-ikl": dict(kernel="ikl"),
    "wgan-gp": dict(lipschitz="none", loss="wgan-gp"), "smmd-gan": dict(lipschitz="none", loss="smmd"),
    "dcgan-si": dict(si=True, loss="non-saturating"), "wgan-gp-si": dict(si=True, loss="wgan-gp"),
    "cr-gan": dict(cr=True, loss="hinge"),
}


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_recipe_settings_follow_the_seeds(method):
    recipe = resolve_recipe({"method": method, "recipe": RECIPES[method]})
    for key, value in EXPECTED[method].items():
        assert recipe.get(key) == value, f"{method}.{key}"


def _lipschitz_kinds(d):
    kinds = set()
    for m in d.modules():
        if parametrize.is_parametrized(m, "weight"):
            kinds |= {type(p).__name__ for p in m.parametrizations.weight}
    return kinds


@pytest.mark.parametrize("method,kinds", [("mmd-rep", {"PICONorm"}), ("sn-gan", {"_SpectralNorm"}),
                                          ("sn-smmd-gan", {"_SpectralNorm", "LearnableScale"}), ("wgan-gp", set())])
def test_lipschitz_control_applied(method, kinds):
    recipe = resolve_recipe({"method": method, "recipe": RECIPES[method]})
    gan = ImageGAN(recipe, "resnet", 32, 3, 1e-4, 1e-4, "cpu", example_real=torch.zeros(2, 3, 32, 32), width=4)
    found = _lipschitz_kinds(gan.D)
    assert kinds <= found and (kinds or not found)


def test_noise_distributions():
    gen = torch.Generator().manual_seed(0)
    from repro.core.image_gan import sample_noise

    u = sample_noise("uniform", 4000, 128, gen, "cpu")
    assert u.min() >= -1 and u.max() <= 1 and abs(float(u.mean())) < 0.01  # 000 §4.1: U[-1, 1]^128
    n = sample_noise("normal", 4000, 128, gen, "cpu")
    assert float(n.std()) == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError, match="noise"):
        sample_noise("cauchy", 2, 2, gen, "cpu")


def test_spectral_axis_parsing():
    r = resolve_recipe({"method": "hinge", "recipe": RECIPES["hinge"], "axes": {"spectral": "pico-64"}})
    assert r["lipschitz"] == "pico" and r["coeff_total"] == 64
    r = resolve_recipe({"method": "hinge", "recipe": RECIPES["hinge"], "model": {"coeff_total": 128},
                        "axes": {"spectral": "pico"}})
    assert r["lipschitz"] == "pico" and r["coeff_total"] == 128
    r = resolve_recipe({"method": "hinge", "recipe": RECIPES["hinge"], "axes": {"spectral": "pim"}})
    assert r["lipschitz"] == "pim" and r["coeff_total"] is None
    with pytest.raises(ValueError, match="'pico-<C\\^K>'"):
        resolve_recipe({"method": "hinge", "recipe": RECIPES["hinge"], "axes": {"spectral": "pico-x"}})
    with pytest.raises(ValueError, match="not understood"):
        resolve_recipe({"method": "hinge", "recipe": RECIPES["hinge"], "model": {"lrr": 1}})


def test_semi_implicit_term_matches_004_eq_12():
    """G loss = L_GAN + λ H_M (004 eq. 12) with λ = |L_GAN| / |H_M| held constant in the gradient."""
    recipe = resolve_recipe({"method": "dcgan-si", "recipe": RECIPES["dcgan-si"]})
    obj = build_objective(recipe, 1)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(4, 3, 2, 2, generator=g, dtype=torch.float64)
    y = torch.rand(5, 3, 2, 2, generator=g, dtype=torch.float64).requires_grad_(True)
    d = lambda t: t.flatten(1)[:, :1]  # noqa: E731
    loss = obj.g_loss(d, x, y)
    (grad,) = torch.autograd.grad(loss, y)

    y2 = y.detach().clone().requires_grad_(True)
    gan = torch.nn.functional.softplus(-d(y2)).mean()
    sigma, xs, ys = 0.1, x.flatten(1), y2.flatten(1)
    dim = xs.shape[1]
    terms = []
    for i in range(xs.shape[0]):  # H_M = -1/N Σ_i log 1/M Σ_j N(x_i; y_j, σ² I), by loops
        logs = [-((xs[i] - ys[j]) ** 2).sum() / (2 * sigma ** 2) - 0.5 * dim * math.log(2 * math.pi * sigma ** 2)
                for j in range(ys.shape[0])]
        terms.append(torch.logsumexp(torch.stack(logs), 0) - math.log(ys.shape[0]))
    h = -torch.stack(terms).mean()
    lam = abs(float(gan.detach())) / abs(float(h.detach()))  # a plain number: the weight is not differentiated
    want = gan + lam * h
    (want_grad,) = torch.autograd.grad(want, y2)
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-9)
    assert torch.allclose(grad, want_grad, rtol=1e-7, atol=1e-10)
