"""Notebook 00's preview figure: what the course's VAE does, drawn from a `PreviewSummary`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..figures import as_numpy, image_grid, plot_codes

if TYPE_CHECKING:  # for the annotation only: the figure draws what it is given
    from .compute import PreviewSummary


def plot_preview(s: PreviewSummary) -> Figure:
    """Three panels: test digits above their decodings; the 2-D codes of the test digits over N(0, I);
    new digits decoded from draws of N(0, I)."""
    fig = plt.figure(figsize=(10.4, 4.0), layout="constrained")
    ax_rec, ax_codes, ax_new = fig.subplots(1, 3, width_ratios=[1.0, 1.45, 1.0])
    pairs = np.concatenate([as_numpy(s.originals), as_numpy(s.reconstructions)])
    image_grid(pairs, len(s.originals), ax=ax_rec, title="1. encode, decode:\ntest digits (top), rebuilt (below)")
    ax_rec.set_xlabel("each rebuilt from 2 numbers,\nits point z = μ(x) on the map")
    plot_codes(s.mu, s.labels, ax=ax_codes, title=f"2. the map: {len(s.mu)} test digits as points z")
    ax_codes.legend(loc="lower left", fontsize="small", framealpha=0.9)
    cols = int(np.ceil(np.sqrt(len(s.samples))))
    image_grid(as_numpy(s.samples), cols, ax=ax_new, title="3. generate: new digits\ndecoded from z drawn from N(0, I)")
    ax_new.set_xlabel("mean images E[x | z]")
    fig.suptitle("What the course builds: a VAE with 2 latent dimensions, trained on this page in seconds")
    return fig


__all__ = ["plot_preview"]
