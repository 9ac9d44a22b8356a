"""Benchmark of notebook 06: train the course's VAE on the digits, report honest test numbers.

    PYTHONPATH=. .venv/bin/python benchmarks/train_vae.py [--seeds 0 1 2] [--threads 1] [--config full]

Split: train = images 0–999, validation = 1000–1349, test = 1350–1796 (as the intro_dgm VAE
notebook). Per seed it prints the training wall time, the test negative ELBO (one-sample bound
averaged over 1,000 draws per digit) and the importance-sampled test −log p(x) with K = 1000,
then the medians. Only the test set is used for these numbers; early stopping uses validation.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from vae_course import data, models, nb06, training

CONFIGS = {
    # the full-quality run: wider, 16 latents, dropout 0.3, trained on the IWAE bound with K = 5
    "full": dict(model=dict(latent_dim=16, hidden=256, dropout=0.3),
                 train=dict(epochs=80, batch_size=100, lr=3e-3, iw_samples=5, patience=15)),
    # the plain VAE of the notebook, trained longer: ELBO objective, no dropout
    "plain": dict(model=dict(latent_dim=8, hidden=128),
                  train=dict(epochs=150, batch_size=100, lr=3e-3, patience=20)),
}


def run(seed: int, config: dict) -> dict:
    torch.manual_seed(seed)  # initial weights
    tr, va, te = (data.load_digits(s) for s in ("train", "val", "test"))
    model = models.VAE(**config["model"])
    hist = training.train(model, tr.x, va.x, generator=torch.Generator().manual_seed(seed), progress=False,
                          **config["train"])
    est = nb06.importance_sampled_nll(model, te.x, ks=(1, 1000),
                                            generator=torch.Generator().manual_seed(1000 + seed))
    return {"seconds": hist.seconds, "epochs": len(hist.val_loss), "best_epoch": hist.best_epoch + 1,
            "neg_elbo": est[1], "nll": est[1000]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--config", choices=list(CONFIGS), default="full")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = CONFIGS[args.config]
    print(f"config {args.config}: {config}, torch threads {args.threads}")
    tr, te = data.load_digits("train"), data.load_digits("test")
    pixel = nb06.pixel_categorical_nll(te.levels, nb06.fit_pixel_categoricals(tr.levels)).mean()
    print(f"baselines on test: uniform over 17 levels {nb06.uniform_nll(te.levels).mean():.2f} nats, "
          f"independent pixel categoricals {pixel:.2f} nats")
    rows = []
    for seed in args.seeds:
        start = time.perf_counter()
        r = run(seed, config)
        rows.append(r)
        print(f"seed {seed}: training {r['seconds']:.1f} s ({r['epochs']} epochs, best {r['best_epoch']}), "
              f"test −ELBO {r['neg_elbo']:.2f}, test −log p(x) (K=1000) {r['nll']:.2f} nats "
              f"[total {time.perf_counter() - start:.1f} s]", flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in ("seconds", "neg_elbo", "nll")}
    print(f"median over {len(rows)} seeds: training {med['seconds']:.1f} s, test −ELBO {med['neg_elbo']:.2f}, "
          f"test −log p(x) (K=1000) {med['nll']:.2f} nats")


if __name__ == "__main__":
    main()
