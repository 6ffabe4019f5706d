"""A run's effective recipe: the method's recipe (``repro/methods.yaml``), then the run's ``model``
config, then any grid axis named like a recipe key (e.g. ``lambda`` in repulsive-fig3, ``coeff_total``
in repulsive-figS2, ``out_dim`` in repulsive-tableS5)."""
from __future__ import annotations

RECIPE_KEYS = ("family", "loss", "lambda", "kernel", "bounded", "variant", "alpha1", "alpha2", "zeta", "eta",
               "gp_lambda", "gp_weight", "cr", "cr_weight", "si", "si_sigma", "out_dim", "lipschitz",
               "lipschitz_coeff", "coeff_total", "noise", "n_dis", "betas", "kernel_lr_ratio", "spectral", "note", "paper")


def resolve_recipe(cfg: dict) -> dict:
    recipe = dict(cfg.get("recipe") or {})
    recipe.update(cfg.get("model") or {})
    for name, value in (cfg.get("axes") or {}).items():
        if name in RECIPE_KEYS:
            recipe[name] = value
    if "spectral" in recipe:
        recipe.update(parse_spectral(recipe.pop("spectral")))
    unknown = sorted(set(recipe) - set(RECIPE_KEYS))
    if unknown:
        raise ValueError(f"image-gan recipe/model keys {unknown} are not understood; known keys: {RECIPE_KEYS}.")
    if recipe.get("family") != "image-gan":
        raise ValueError(f"method {cfg.get('method')!r} is not an image-gan recipe (family {recipe.get('family')!r}).")
    return recipe


def parse_spectral(value: str) -> dict:
    """``pim``, ``pico`` (C^K from the recipe's ``coeff_total``, else C = 1/0.55 per layer) or
    ``pico-<C^K>`` (003 App. C.3: C^K ∈ {16, 32, 64, 128, 256}) → lipschitz settings."""
    if value == "pim":
        return {"lipschitz": "pim", "coeff_total": None, "lipschitz_coeff": None}
    if value == "pico":
        return {"lipschitz": "pico"}
    if isinstance(value, str) and value.startswith("pico-"):
        try:
            total = float(value[5:])
        except ValueError:
            total = -1.0
        if total > 0:
            return {"lipschitz": "pico", "coeff_total": total, "lipschitz_coeff": None}
    raise ValueError(f"spectral must be 'pim', 'pico' or 'pico-<C^K>' (e.g. pico-64); got {value!r}.")
