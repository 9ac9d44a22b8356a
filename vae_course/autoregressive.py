"""Autoregressive decoders for notebook 07: p(x|z) = Π_j p(x_j | x_<j, z) over the 64 pixels in raster order.

The VAE of notebooks 03–06 decodes every pixel independently given z. Here pixel j's categorical over the
17 grey levels (the likelihood of `models.VAE`, `probability.categorical_log_likelihood`) depends on z and
on the pixels before it in raster order (row by row, left to right). Masks enforce that order:

- `made_mask(in_degrees, out_degrees, strict)`, `made_degrees(...)`: the masks of a masked MLP (MADE,
  Germain et al. 2015); `raster_mask(kernel_size, mask_type)`: the masks of a masked convolution
  (PixelCNN, van den Oord et al. 2016): type "A" hides the centre pixel (first layer), type "B" shows it.
- `MaskedLinear`, `MaskedConv2d`: a linear layer and a 2-D convolution whose weights are multiplied by a mask.
- `MaskedMLPDecoder`, `MaskedConvDecoder`: the two decoders. `logits(x, z)` (B, 64, 17) in one pass (every
  pixel's conditional at once, from the true earlier pixels), `log_prob(x, z)` (B,), `sample(z, generator)`
  pixel by pixel. latent_dim = 0 is the same decoder with no latent: an autoregressive model of p(x).
- `AutoregressiveVAE(decoder)`: the encoder and the prior of `models.VAE` with one of these decoders, so
  `training.train`, `models.log_weights` / `iw_terms` / `iw_bound` and notebook 06's importance-sampled
  −log p(x) work unchanged (and stay exact: log p(x|z) is computed exactly, in one pass).

Shapes: B examples, L latent dimensions, D = 64 pixels, K = 17 grey levels. x (B, 64) in [0, 1] (levels / 16).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from . import _validate as v
from . import models, probability

IMAGE_SIDE = 8
DATA_DIM = IMAGE_SIDE * IMAGE_SIDE
N_LEVELS = 17
Z_BIAS = ("position", "channel")
DROPOUT_KINDS = ("bernoulli", "uniform", "channel")


# --- masks ---------------------------------------------------------------------------------------------

def _degrees(d, name: str) -> Tensor:
    if not isinstance(d, Tensor) or d.is_floating_point() or d.dtype == torch.bool or d.ndim != 1:
        raise TypeError(f"{name} must be a 1-D integer tensor of degrees, got "
                        f"{type(d).__name__ if not isinstance(d, Tensor) else f'dtype {d.dtype}, shape {tuple(d.shape)}'}.")
    return d.long()


def made_mask(in_degrees: Tensor, out_degrees: Tensor, strict: bool) -> Tensor:
    """The (out, in) 0/1 mask of a MADE layer: unit o may see unit i iff deg(o) > deg(i) (strict, output
    layer) or deg(o) ≥ deg(i) (hidden layers). Degrees: 1-D integer tensors; input pixel j has degree j + 1.
    """
    in_degrees, out_degrees = _degrees(in_degrees, "in_degrees"), _degrees(out_degrees, "out_degrees")
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True (output layer) or False (hidden layer), got {strict!r}.")
    see = out_degrees[:, None] > in_degrees[None, :] if strict else out_degrees[:, None] >= in_degrees[None, :]
    return see.float()


def made_degrees(data_dim: int, hidden_sizes, n_out: int = 1) -> list[Tensor]:
    """Degrees of every layer of a masked MLP over `data_dim` inputs in their given order.

    Returns [inputs (D,), hidden 1, …, outputs (D·n_out,)]: input j has degree j + 1, hidden unit h of a
    layer degree 1 + (h mod (D − 1)) (every value 1..D − 1, so no unit is dead), output unit j·n_out + c
    (pixel j, level c) degree j + 1. Masks: made_mask(deg[l], deg[l + 1], strict=(l + 1 == last)).
    """
    data_dim = v.count(data_dim, "data_dim", minimum=2)
    hidden_sizes = [v.count(h, "each hidden size") for h in hidden_sizes]
    n_out = v.count(n_out, "n_out")
    degrees = [torch.arange(1, data_dim + 1)]
    degrees += [1 + torch.arange(h) % (data_dim - 1) for h in hidden_sizes]
    degrees.append(torch.arange(1, data_dim + 1).repeat_interleave(n_out))
    return degrees


def raster_mask(kernel_size: int, mask_type: str) -> Tensor:
    """The (k, k) 0/1 mask of a masked convolution in raster order, k odd.

    1 above the centre row, and left of the centre in the centre row; the centre itself is 0 for type "A"
    (the first layer: pixel j must not see x_j) and 1 for type "B" (later layers: position j's features
    already depend only on x_<j). Everything right of and below the centre is 0.
    """
    kernel_size = v.count(kernel_size, "kernel_size")
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (a centre pixel), got {kernel_size}.")
    v.one_of(mask_type, "mask_type", ("A", "B"))
    c = kernel_size // 2
    mask = torch.zeros(kernel_size, kernel_size)
    mask[:c] = 1
    mask[c, :c + (mask_type == "B")] = 1
    return mask


class MaskedLinear(torch.nn.Linear):
    """y = x (W ⊙ M)ᵀ + b with a fixed 0/1 mask M (out, in): a weight where M = 0 never acts and gets no gradient."""

    def __init__(self, in_features: int, out_features: int, mask: Tensor, bias: bool = True):
        super().__init__(v.count(in_features, "in_features"), v.count(out_features, "out_features"), bias=bias)
        mask = v.tensor(mask, "mask")
        if mask.shape != (out_features, in_features):
            raise ValueError(f"mask must have shape (out_features, in_features) = ({out_features}, {in_features}), "
                             f"got {tuple(mask.shape)}.")
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MaskedConv2d(torch.nn.Conv2d):
    """A 2-D convolution ('same' padding) whose kernel is multiplied by `raster_mask(kernel_size, mask_type)`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str, bias: bool = True):
        mask = raster_mask(kernel_size, mask_type)
        super().__init__(v.count(in_channels, "in_channels"), v.count(out_channels, "out_channels"), kernel_size,
                         padding=kernel_size // 2, bias=bias)
        self.mask_type = mask_type
        self.register_buffer("mask", mask.to(self.weight.dtype)[None, None])

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


# --- decoders ------------------------------------------------------------------------------------------

class _ARDecoder(torch.nn.Module):
    """What both decoders share: input checks, log p(x|z), pixel-by-pixel sampling. Subclasses define _logits."""

    def _init(self, latent_dim: int, dropout: float, data_dim: int, n_levels: int) -> None:
        self.latent_dim = v.count(latent_dim, "latent_dim", minimum=0)
        self.data_dim = v.count(data_dim, "data_dim", minimum=2)
        self.n_levels = v.count(n_levels, "n_levels", minimum=2)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}.")
        self.dropout = float(dropout)

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def check_z(self, z, batch: int | None = None) -> Tensor:
        """z as a (B, L) tensor of the decoder's dtype; None is allowed (and only allowed) when L = 0."""
        if z is None:
            if self.latent_dim:
                raise ValueError(f"this decoder needs z with {self.latent_dim} latent dimensions, got None.")
            return torch.zeros(batch or 0, 0, dtype=self._dtype())
        z = v.tensor(z, "z", dtype=self._dtype())
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}.")
        if batch is not None and len(z) != batch:
            raise ValueError(f"z has {len(z)} rows but x has {batch}: one code per digit.")
        return z

    def check_x(self, x) -> Tensor:
        """x (B, 64) in [0, 1] on the 17-level grid (levels / 16), as the decoder's dtype."""
        x = v.tensor(x, "x", dtype=self._dtype())
        if x.ndim != 2 or x.shape[1] != self.data_dim:
            raise ValueError(f"x must have shape (B, {self.data_dim}), got {tuple(x.shape)}.")
        if (x < 0).any() or (x > 1).any():
            raise ValueError("x must lie in [0, 1] (digits as levels / 16).")
        scaled = x * (self.n_levels - 1)
        if (scaled - scaled.round()).abs().max() > 1e-4:
            raise ValueError(f"x must be levels / {self.n_levels - 1} (one of {self.n_levels} grey levels per pixel): "
                             f"an autoregressive decoder conditions on the exact earlier pixels.")
        return x

    def logits(self, x: Tensor, z: Tensor | None = None) -> Tensor:
        """The conditionals of every pixel given the earlier ones and z, in one pass: (B, 64), (B, L) → (B, 64, 17).

        logits[:, j] depends only on x[:, :j] and z (the masks guarantee it; tests check it by autograd).
        """
        x = self.check_x(x)
        return self._logits(x, self.check_z(z, len(x)))

    def log_prob(self, x: Tensor, z: Tensor | None = None) -> Tensor:
        """log p(x|z) = Σ_j log p(x_j | x_<j, z), exact, summed over the 64 pixels: (B, 64), (B, L) → (B,)."""
        x = self.check_x(x)
        levels = torch.round(x * (self.n_levels - 1)).long()
        return probability.categorical_log_likelihood(levels, self._logits(x, self.check_z(z, len(x))))

    @torch.no_grad()
    def sample(self, z: Tensor | None = None, n: int | None = None, generator: torch.Generator | None = None,
               uniforms: Tensor | None = None) -> Tensor:
        """x ~ p(x|z), pixel by pixel in raster order (64 passes of the network): (B, L) → (B, 64) in [0, 1].

        With latent_dim = 0 pass n (how many digits) instead of z. Runs in eval mode (no dropout).
        uniforms (B, 64) in [0, 1), instead of a generator: the pixel noise itself; pixel j takes the first
        level whose cumulative probability exceeds uniforms[:, j] (inverse CDF), so rows with the same
        uniforms and other codes differ only through z.
        """
        if z is None:
            if self.latent_dim:
                raise ValueError(f"sample needs z with {self.latent_dim} latent dimensions, got None.")
            batch = v.count(n, "n", of="digits") if n is not None else None
            if batch is None:
                raise ValueError("with latent_dim = 0, sample needs n, the number of digits to draw.")
            z = torch.zeros(batch, 0, dtype=self._dtype())
        else:
            if n is not None and n != len(z):
                raise ValueError(f"n = {n} but z has {len(z)} rows; pass one of them.")
            z = self.check_z(z)
        if uniforms is not None:
            if generator is not None:
                raise ValueError("pass a generator or uniforms (the pixel noise itself), not both.")
            uniforms = v.tensor(uniforms, "uniforms", dtype=self._dtype())
            if uniforms.shape != (len(z), self.data_dim):
                raise ValueError(f"uniforms must have shape (B, {self.data_dim}) = ({len(z)}, {self.data_dim}), "
                                 f"got {tuple(uniforms.shape)}.")
            if (uniforms < 0).any() or (uniforms >= 1).any():
                raise ValueError("uniforms must lie in [0, 1).")
        with models.evaluating(self):
            x = torch.zeros(len(z), self.data_dim, dtype=self._dtype())
            for j in range(self.data_dim):
                p = torch.softmax(self._logits(x, z)[:, j], dim=-1)
                if uniforms is None:
                    level = torch.multinomial(p, 1, generator=generator)[:, 0]
                else:  # the number of levels whose cumulative probability is ≤ u (at most K − 1)
                    level = (p.cumsum(-1)[:, :-1] <= uniforms[:, j:j + 1]).sum(-1)
                x[:, j] = level.to(x.dtype) / (self.n_levels - 1)
        return x


class MaskedMLPDecoder(_ARDecoder):
    """A masked MLP (MADE) over the 64 pixels in raster order, z added to every hidden unit.

    h_1 = relu(M_1 ⊙ W_1 x + V_1 z + b_1), …, logits = M_out ⊙ W_out h_last + M_skip ⊙ W_skip x + V_out z + b:
    the logits of pixel j see x_<j only (masks from `made_degrees`/`made_mask`), z everywhere.
    hidden: sizes of the hidden layers; dropout after every hidden layer (training mode only).
    data_dim, n_levels: 64 pixels and 17 grey levels for the digits (smaller for tests that enumerate).
    """

    def __init__(self, latent_dim: int, hidden=(512, 512), dropout: float = 0.0, data_dim: int = DATA_DIM,
                 n_levels: int = N_LEVELS):
        super().__init__()
        self._init(latent_dim, dropout, data_dim, n_levels)
        hidden = [hidden] if isinstance(hidden, int) else list(hidden)
        deg = made_degrees(self.data_dim, hidden, self.n_levels)
        sizes = [self.data_dim, *hidden, self.data_dim * self.n_levels]
        nn = torch.nn
        self.layers = nn.ModuleList(MaskedLinear(sizes[i], sizes[i + 1], made_mask(deg[i], deg[i + 1], i == len(hidden)))
                                    for i in range(len(sizes) - 1))
        self.skip = MaskedLinear(self.data_dim, sizes[-1], made_mask(deg[0], deg[-1], True), bias=False)
        self.z_in = (nn.ModuleList(nn.Linear(self.latent_dim, s, bias=False) for s in sizes[1:])
                     if self.latent_dim else None)
        self.drop = nn.Dropout(self.dropout)

    def _logits(self, x: Tensor, z: Tensor) -> Tensor:
        h = x
        for i, layer in enumerate(self.layers):
            h_in = h
            h = layer(h_in)
            if self.z_in is not None:
                h = h + self.z_in[i](z)
            if i < len(self.layers) - 1:
                h = self.drop(torch.relu(h))
        return (h + self.skip(x)).unflatten(-1, (self.data_dim, self.n_levels))


class MaskedConvDecoder(_ARDecoder):
    """A PixelCNN-style decoder: masked convolutions over the 8×8 image, z as a bias in every layer.

    Layer 1: MaskedConv2d(1 → channels, first_kernel, "A"); layers 2..n_layers: MaskedConv2d(channels →
    channels, kernel_size, "B") (kernel_size: one size for all, or a list of n_layers − 1 sizes, one per layer,
    e.g. (3, 1): a 1×1 layer mixes channels at a position and widens nothing), each followed by + bias(z),
    relu, dropout; then a 1×1 convolution to 17 logits per pixel, + bias(z). z_bias="position": bias(z) = A z reshaped to (channels, 8, 8), a bias for
    every position and channel (z can say where strokes go); "channel": one bias per channel, the same at
    every position (with it the decoder learns to ignore z: the latent collapses). Every layer also has a
    learned bias per position and channel that does not depend on z (with latent_dim = 0 it is all it has).
    image_side, n_levels: 8 × 8 pixels and 17 grey levels for the digits (smaller for tests that enumerate).
    residual=True adds each layer after the first to its input (h ← h + layer(h); type-B masks keep the order).
    gated=True replaces relu by a gated unit (PixelCNN++ / WaveNet style): each masked layer computes 2·channels
    maps a, g and h = tanh(a + bias_a(z)) ⊙ σ(g + bias_g(z)), so z can also open and close features.
    dropout_kind: "bernoulli" (torch.nn.Dropout, the default); "uniform", the same element-wise dropout with
    the kept units drawn as u ≥ dropout from uniforms u (the same distribution, about 2.5× cheaper on a CPU
    than torch's Bernoulli draws); "channel", whole feature maps dropped per digit (torch.nn.Dropout2d).
    z_hidden: 0 (the default) maps z linearly to the biases; H > 0 first maps z through one hidden layer,
    u = relu(W z + c) of H units, shared by all layers, and every layer's bias(z) is linear in u (a small MLP
    decoder of z whose output is the biases: z can shape them non-linearly, as a plain VAE's decoder would).
    """

    def __init__(self, latent_dim: int, channels: int = 32, n_layers: int = 3, kernel_size: int = 5,
                 first_kernel: int = 15, dropout: float = 0.0, z_bias: str = "position",
                 image_side: int = IMAGE_SIDE, n_levels: int = N_LEVELS, residual: bool = False,
                 gated: bool = False, dropout_kind: str = "bernoulli", z_hidden: int = 0):
        super().__init__()
        self.side = s = v.count(image_side, "image_side", minimum=2)
        self._init(latent_dim, dropout, s * s, n_levels)
        self.channels, self.n_layers = v.count(channels, "channels"), v.count(n_layers, "n_layers")
        self.z_bias = v.one_of(z_bias, "z_bias", Z_BIAS)
        if not isinstance(residual, bool):
            raise TypeError(f"residual must be True or False, got {residual!r}.")
        self.residual = residual
        if not isinstance(gated, bool):
            raise TypeError(f"gated must be True or False, got {gated!r}.")
        self.gated = gated
        nn = torch.nn
        wide = 2 * channels if gated else channels  # a gated layer computes a and g
        kernels = list(kernel_size) if isinstance(kernel_size, (list, tuple)) else [kernel_size] * (n_layers - 1)
        if len(kernels) != n_layers - 1:
            raise ValueError(f"kernel_size must be one odd size or one per layer after the first ({n_layers - 1} "
                             f"for n_layers = {n_layers}), got {len(kernels)} sizes: {kernel_size!r}.")
        self.convs = nn.ModuleList([MaskedConv2d(1, wide, first_kernel, "A")] +
                                   [MaskedConv2d(channels, wide, k, "B") for k in kernels])
        self.out = nn.Conv2d(channels, self.n_levels, 1)
        widths = [wide] * n_layers + [self.n_levels]
        self.position_bias = nn.ParameterList(nn.Parameter(torch.zeros(c, s, s)) for c in widths)
        per = s * s if z_bias == "position" else 1
        self.z_hidden = v.count(z_hidden, "z_hidden", minimum=0)
        self.z_net = (nn.Sequential(nn.Linear(self.latent_dim, self.z_hidden), nn.ReLU())
                      if self.latent_dim and self.z_hidden else None)
        z_width = self.z_hidden or self.latent_dim
        self.z_in = (nn.ModuleList(nn.Linear(z_width, c * per, bias=False) for c in widths)
                     if self.latent_dim else None)
        self.dropout_kind = v.one_of(dropout_kind, "dropout_kind", DROPOUT_KINDS)
        self.drop = (nn.Dropout(self.dropout) if dropout_kind == "bernoulli" else
                     nn.Dropout2d(self.dropout) if dropout_kind == "channel" else _UniformDropout(self.dropout))

    def _bias(self, i: int, z: Tensor) -> Tensor:
        b = self.position_bias[i]
        if self.z_in is None:
            return b
        s = self.side if self.z_bias == "position" else 1
        return b + self.z_in[i](z).unflatten(-1, (b.shape[0], s, s))

    def _logits(self, x: Tensor, z: Tensor) -> Tensor:
        h = x.reshape(-1, 1, self.side, self.side)
        if self.z_net is not None:
            z = self.z_net(z)  # (B, z_hidden): what every layer's bias(z) is linear in
        for i, conv in enumerate(self.convs):
            pre = conv(h) + self._bias(i, z)
            if self.gated:
                a, g = pre.chunk(2, dim=1)
                update = self.drop(torch.tanh(a) * torch.sigmoid(g))
            else:
                update = self.drop(torch.relu(pre))
            h = h + update if self.residual and i > 0 else update
        logits = self.out(h) + self._bias(len(self.convs), z)  # (B, K, side, side)
        return logits.flatten(2).transpose(1, 2)  # (B, D, K)


class _UniformDropout(torch.nn.Module):
    """Element-wise dropout (training mode only): keep a unit where a uniform draw is ≥ p, scale by 1/(1 − p)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, h: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return h
        return h * (torch.rand_like(h) >= self.p).to(h.dtype) / (1 - self.p)


# --- augmentation --------------------------------------------------------------------------------------

def shift_digits(x: Tensor, generator: torch.Generator | None = None, max_shift: int = 1) -> Tensor:
    """Each digit moved by its own random (dy, dx), each uniform on −max_shift..max_shift, the pixels that
    come in set to 0 (the background): x (B, 64) → (B, 64). Augmentation for `training.train(augment=...)`.
    """
    x = v.tensor(x, "x")
    if x.ndim != 2 or x.shape[1] != DATA_DIM:
        raise ValueError(f"x must have shape (B, {DATA_DIM}), got {tuple(x.shape)}.")
    m = v.count(max_shift, "max_shift", minimum=0)
    if m >= IMAGE_SIDE:
        raise ValueError(f"max_shift must be below the image side {IMAGE_SIDE}, got {m}.")
    if m == 0 or len(x) == 0:
        return x.clone()
    b, s = len(x), IMAGE_SIDE
    padded = F.pad(x.reshape(b, s, s), (m, m, m, m))  # (B, s + 2m, s + 2m)
    dy, dx = torch.randint(-m, m + 1, (2, b), generator=generator)
    rows = (torch.arange(s)[None, :] + m - dy[:, None])  # (B, s): output row r reads padded row r + m − dy
    cols = (torch.arange(s)[None, :] + m - dx[:, None])
    out = padded[torch.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(b, DATA_DIM)


# --- the VAE -------------------------------------------------------------------------------------------

class NoLatent(torch.nn.Module):
    """The "prior" of a model without a latent: z has 0 dimensions, log p(z) = 0, KL(q ‖ p) = 0.

    With it an `AutoregressiveVAE` of latent_dim = 0 is the autoregressive model p(x) itself, and its ELBO
    and every importance weight equal log p(x) exactly.
    """

    dim = 0

    def sample(self, n: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        return torch.zeros(v.count(n, "n"), 0, dtype=dtype)

    def log_prob(self, z: Tensor) -> Tensor:
        z = v.tensor(z, "z")
        if z.ndim == 0 or z.shape[-1] != 0:
            raise ValueError(f"z of a model without a latent has 0 dimensions in its last axis, got {tuple(z.shape)}.")
        return z.sum(-1)

    def kl(self, mu: Tensor, log_var: Tensor) -> Tensor:
        return torch.zeros(mu.shape[:-1], dtype=mu.dtype)


class AutoregressiveVAE(models.VAE):
    """A VAE with an autoregressive decoder: the MLP encoder q(z|x) and the prior of `models.VAE`, and
    p(x|z) = Π_j p(x_j | x_<j, z) from `decoder` (a MaskedMLPDecoder or MaskedConvDecoder; its latent_dim
    is the model's).

    hidden, dropout, variance, prior: the encoder's and the prior's, as in `models.VAE` (N(0, I) by default).
    decoder.latent_dim = 0 gives the model with no latent (prior `NoLatent`, no encoder): its −ELBO is −log p(x).

    An autoregressive p(x|z) has no logits before x is known, so `decode(z)` returns the decoder's input,
    z itself (checked), and `log_likelihood(x, z)` runs the decoder on x and z in one pass. That keeps the
    interface of `models.VAE`: `elbo_terms`, `training.train` (ELBO or IWAE), `models.iw_terms`,
    `models.log_weights` and the importance-sampled −log p(x) all work, exactly. Mean images do not exist
    in one pass: use `sample(n)` (x ~ p(x)) and `sample_x(z)` (x ~ p(x|z)).
    """

    def __init__(self, decoder: _ARDecoder, hidden: int = 256, dropout: float = 0.0, prior=None,
                 variance: str = "log_var"):
        if not isinstance(decoder, _ARDecoder):
            raise TypeError(f"decoder must be a MaskedMLPDecoder or MaskedConvDecoder, got {type(decoder).__name__}.")
        latent_dim = decoder.latent_dim
        if latent_dim == 0 and prior is not None:
            raise ValueError("a model without a latent (decoder.latent_dim = 0) takes no prior.")
        super().__init__(max(latent_dim, 1), hidden, decoder.data_dim, "categorical", decoder.n_levels, variance,
                         dropout, prior)
        self.decoder = decoder
        if latent_dim == 0:
            self.latent_dim, self.encoder, self.prior = 0, None, NoLatent()

    def _dtype(self) -> torch.dtype:
        return self.decoder._dtype()

    def check_x(self, x) -> Tensor:
        return self.decoder.check_x(x)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """mu, log_var of q(z|x): (B, 64) → (B, L), (B, L); (B, 0) each without a latent."""
        if self.encoder is None:
            x = self.check_x(x)
            empty = torch.zeros(len(x), 0, dtype=x.dtype)
            return empty, empty
        return super().encode(x)

    def decode(self, z: Tensor) -> Tensor:
        """z (..., L), checked: the decoder's input (its logits need x too; see `log_likelihood`)."""
        z = v.tensor(z, "z", dtype=self._dtype())
        if z.ndim == 0 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have {self.latent_dim} latent dimensions in its last axis, got {tuple(z.shape)}.")
        return z

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x|z) = Σ_j log p(x_j | x_<j, z), exact: x (B, 64), z (B, L) (what `decode` returned) → (B,)."""
        return self.decoder.log_prob(x, z)

    def mean_image(self, logits: Tensor) -> Tensor:
        raise TypeError("an autoregressive decoder has no mean image in one pass (each pixel's distribution depends "
                        "on the pixels drawn before it): use model.sample_x(z) or model.sample(n).")

    def decode_mean(self, z: Tensor) -> Tensor:
        return self.mean_image(z)

    def sample_means(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return self.mean_image(None)

    def reconstruct(self, x: Tensor) -> Tensor:
        return self.mean_image(None)

    @torch.no_grad()
    def sample_x(self, z: Tensor, generator: torch.Generator | None = None, uniforms: Tensor | None = None) -> Tensor:
        """x ~ p(x|z) pixel by pixel: z (B, L) → x (B, 64) in [0, 1] (levels / 16); uniforms: see the decoder's sample."""
        return self.decoder.sample(self.decode(z), generator=generator, uniforms=uniforms)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n digits x ~ p(x) = ∫ p(x|z) p(z) dz: z from the prior, then pixel by pixel. → (n, 64) in [0, 1]."""
        z = self.prior.sample(v.count(n, "n", of="digits"), generator=generator, dtype=self._dtype())
        return self.decoder.sample(z if self.latent_dim else None, n=n if not self.latent_dim else None,
                                   generator=generator)


def exact_log_prob(model: AutoregressiveVAE, x: Tensor, batch_size: int = 500) -> Tensor:
    """log p(x) of a model without a latent, exact (eval mode): x (N, 64) → (N,). For a model with a latent
    there is no exact value; use importance sampling (`models.log_weights`, `models.iw_bound`)."""
    if not isinstance(model, AutoregressiveVAE):
        raise TypeError(f"model must be an AutoregressiveVAE, got {type(model).__name__}.")
    if model.latent_dim:
        raise ValueError(f"log p(x) is exact only without a latent; this model has latent_dim = {model.latent_dim} "
                         f"(estimate it by importance sampling).")
    x = model.check_x(x)
    with models.evaluating(model):
        return torch.cat([model.decoder.log_prob(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


__all__ = ["made_mask", "made_degrees", "raster_mask", "MaskedLinear", "MaskedConv2d", "MaskedMLPDecoder",
           "MaskedConvDecoder", "shift_digits", "NoLatent", "AutoregressiveVAE", "exact_log_prob", "Z_BIAS", "DROPOUT_KINDS",
           "IMAGE_SIDE"]
