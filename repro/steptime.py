"""One measurement of an image-GAN architecture's training step, shared by `repro plan` and
`repro preflight`, cached on disk per (architecture, resolution, batch size, width, device).

Rule (stated, so that planning takes seconds on a login node): one discriminator update (t_D) and one
generator update (t_G) with the hinge loss and PIM spectral norm are timed after one warm-up step, the minimum
of ``repeats`` (load from other processes only adds time). On a CPU the step is timed at a batch of at most ``CPU_MEASURE_BATCH`` images and scaled
linearly to the job's batch size, t(B) = t(b) · B / b: convolution cost is linear in the batch, and the
fixed per-step overhead that this scaling also multiplies makes the estimate err high, not low. On a GPU
the real batch is timed. Loss-specific extras (MMD kernels, gradient penalties, KernelNet) are not
included. The cache lives in ``$REPRO_CACHE/step_times.json`` (default ``~/.cache/repro``) and is keyed
also by the torch version, the host's processor and the thread count, so a new machine re-measures.
`repro preflight` also keeps there the seconds each of its checks took (:func:`store`), and says from them
how long its next run will take (:func:`lookup`).
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

CPU_MEASURE_BATCH = 8
CACHE_FILE = "step_times.json"


def cache_path() -> Path:
    from repro.metrics.cache import cache_dir

    return cache_dir(CACHE_FILE)


def _key(arch: str, resolution: int, batch_size: int, width, device: str) -> str:
    import torch

    where = device if device.startswith("cuda") else f"cpu:{platform.processor() or platform.machine()}" \
                                                     f":{torch.get_num_threads()}t"
    if device.startswith("cuda") and torch.cuda.is_available():
        where = f"cuda:{torch.cuda.get_device_name(torch.device(device))}"
    return f"{arch}|{resolution}|{batch_size}|{width}|{where}|torch {torch.__version__}"


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def measure_batch(batch_size: int, device: str) -> int:
    return batch_size if device.startswith("cuda") else min(batch_size, CPU_MEASURE_BATCH)


def time_step(arch: str, resolution: int, batch_size: int, device: str = "cpu", repeats: int = 2,
              width: int | None = None) -> dict[str, float]:
    """Seconds of one discriminator update (t_d) and one generator update (t_g), measured at ``batch_size``."""
    import torch

    from repro.core.image_gan import ImageGAN

    recipe = {"family": "image-gan", "loss": "hinge", "out_dim": 1, "lipschitz": "pim", "n_dis": 1}
    real = torch.rand(batch_size, 3, resolution, resolution) * 2 - 1
    gan = ImageGAN(recipe, arch, resolution, 3, 1e-4, 1e-4, device, example_real=real, width=width)
    z_gen = torch.Generator().manual_seed(0)
    x = real.to(gan.device)

    def sync():
        if gan.device.type == "cuda":
            torch.cuda.synchronize(gan.device)

    def d_step():
        with torch.no_grad():
            y = gan.G(gan.noise_batch(batch_size, z_gen))
        loss = gan.objective.d_loss(gan.D, x, y)
        gan.opt_d.zero_grad()
        loss.backward()
        gan.opt_d.step()

    def g_step():
        y = gan.G(gan.noise_batch(batch_size, z_gen))
        loss = gan.objective.g_loss(gan.D, x, y)
        gan.opt_g.zero_grad()
        loss.backward()
        gan.opt_g.step()

    def fastest(step) -> float:  # the minimum over repeats: other load on the host only ever adds time
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            step()
            sync()
            times.append(time.perf_counter() - t0)
        return min(times)

    d_step(), g_step()  # warm-up
    sync()
    return {"t_d": fastest(d_step), "t_g": fastest(g_step)}


def cached(arch: str, resolution: int, batch_size: int, width, device: str) -> dict | None:
    """The cached step time at the job's ``batch_size`` (already scaled), or None."""
    return _read(cache_path()).get(_key(arch, resolution, batch_size, width, device))


def step_seconds(arch: str, resolution: int, batch_size: int, width=None, device: str = "cpu",
                 repeats: int = 2) -> dict[str, float]:
    """{"t_d", "t_g", "measured_batch", "cached"} at ``batch_size``: from the cache, else timed (rule above)."""
    hit = cached(arch, resolution, batch_size, width, device)
    if hit is not None:
        return {**hit, "cached": True}
    b = measure_batch(batch_size, device)
    t = time_step(arch, resolution, b, device, repeats=repeats, width=width)
    scale = batch_size / b
    out = {"t_d": t["t_d"] * scale, "t_g": t["t_g"] * scale, "measured_batch": b}
    path = cache_path()
    table = _read(path)
    table[_key(arch, resolution, batch_size, width, device)] = out
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1, sort_keys=True))
    tmp.replace(path)
    return {**out, "cached": False}


def _host_key(key: str, device: str = "cpu") -> str:
    return f"{key}|{_key('', 0, 0, None, device).split('|', 4)[4]}"


def lookup(key: str, device: str = "cpu") -> float | None:
    """The value stored under ``key`` for this host (or GPU), thread count and torch version, or None."""
    value = _read(cache_path()).get(_host_key(key, device))
    return None if value is None else float(value)


def store(key: str, value: float, device: str = "cpu") -> None:
    """Store ``value`` under ``key`` for this host, thread count and torch version (replacing an older one)."""
    path = cache_path()
    table = _read(path)
    table[_host_key(key, device)] = float(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(table, indent=1, sort_keys=True))
    tmp.replace(path)


def remember(key: str, measure) -> tuple[float, bool]:
    """A cached measurement under ``key`` (+ this host and torch version), else ``measure()`` stored; (value, cached)."""
    value = lookup(key)
    if value is not None:
        return value, True
    value = float(measure())
    store(key, value)
    return value, False


def step_table(nets: list[tuple], device: str = "cpu", desc: str = "timing steps") -> dict[tuple, dict]:
    """Step times of every (arch, resolution, batch_size, width) in ``nets``; a progress bar names each one
    that must be timed (cached ones cost nothing)."""
    from tqdm.auto import tqdm

    nets = list(dict.fromkeys(nets))
    todo = [n for n in nets if cached(*n, device) is None]
    out = {n: {**cached(*n, device), "cached": True} for n in nets if n not in todo}
    if todo:
        print(f"{desc}: timing {len(todo)} architecture(s) not in {cache_path()} "
              f"({len(out)} cached); rule: repro/steptime.py", flush=True)
    with tqdm(todo, desc=desc, unit="net", disable=not todo) as bar:
        for arch, res, bs, width in bar:
            bar.set_postfix_str(f"{arch} {res}×{res} batch {measure_batch(bs, device)}→{bs}")
            out[(arch, res, bs, width)] = step_seconds(arch, res, bs, width, device)
    return out
