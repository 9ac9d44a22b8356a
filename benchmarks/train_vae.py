"""Benchmark of notebooks 06 and 07: train the course's models on the digits, report honest test numbers.

    PYTHONPATH=. .venv/bin/python benchmarks/train_vae.py [--seeds 0 1 2] [--threads 1] [--models ...] [--k 1000] [--jobs 1]

Split: train = images 0–999, validation = 1000–1349, test = 1350–1796 (as the intro_dgm VAE notebook).
Per model and seed it prints the training wall time and the CPU time of the training process while it
trains (`time.process_time()`: on a shared machine the honest measure; on an idle core it is the wall time), the epochs, the test negative ELBO (one-sample bound
averaged over the K draws per digit), the importance-sampled test −log p(x) with K = 1000 and the KL on
the test digits; then the medians over the seeds, beside intro_dgm's figures. Only the test set is used
for these numbers; early stopping uses validation. `--jobs N` runs N (model, seed) runs at a time, each in its
own process with `--threads` torch threads (the CPU times stay per process). Models (`--models`, all by default):

- vae: the VAE of notebook 06 (MLP encoder and decoder, N(0, I), pixels independent given z);
- mixture: the same with a learned mixture of 16 Gaussians as the prior;
- ar: a PixelCNN-style decoder (`vae_course.autoregressive.MaskedConvDecoder`, gated units, z as a bias for
  every position and channel of every layer, in both gates) with the same encoder and N(0, I), 16 latents;
- ar_nolatent: the same decoder with no latent; its −log p(x) is exact (every importance weight equals
  log p(x), so IS with any K gives the same number; the script checks that with K = 10).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time

import torch

from vae_course import autoregressive, data, models, nb06, probability, training

#: intro_dgm's own VAE code on the same split and evaluation (issue 16: median of 3 seeds, 1 thread).
INTRO_DGM = {"vae": (93.91, 8.5), "mixture": (93.18, None), "vampprior": (94.88, None)}

# A 5×5 type-A first layer (each pixel sees the 12 pixels just before it, not the whole image above: a no-latent
# model that sees less leaves more to z), two 3×3 type-B layers, gated units with z in both gates.
# Dropout drawn from uniforms ("uniform": the same distribution as torch.nn.Dropout, cheaper on a CPU).
AR_DECODER = dict(channels=32, n_layers=3, kernel_size=3, first_kernel=5, dropout=0.3, gated=True,
                  dropout_kind="uniform")
AR_TRAIN = dict(epochs=56, batch_size=50, lr=6e-3, ema_decay=0.995, lr_schedule="cosine", patience=15)

CONFIGS = {
    # notebook 06's VAE, full quality: wider, 16 latents, dropout 0.3, trained on the IWAE bound with K = 5
    "vae": dict(model=dict(latent_dim=16, hidden=256, dropout=0.3),
                train=dict(epochs=80, batch_size=100, lr=3e-3, iw_samples=5, patience=15)),
    "mixture": dict(model=dict(latent_dim=16, hidden=256, dropout=0.3), components=16,
                    train=dict(epochs=80, batch_size=100, lr=3e-3, iw_samples=5, patience=15)),
    "ar": dict(latent_dim=16, decoder=AR_DECODER, encoder=dict(hidden=256), train=AR_TRAIN),
    "ar_nolatent": dict(latent_dim=0, decoder=AR_DECODER, encoder=dict(hidden=256), train=AR_TRAIN),
}


def build(name: str, config: dict):
    if name in ("vae", "mixture"):
        prior = None
        if name == "mixture":
            dim = config["model"]["latent_dim"]
            prior = probability.GaussianMixture(torch.randn(config["components"], dim), learnable=True)
        return models.VAE(**config["model"], prior=prior)
    decoder = autoregressive.MaskedConvDecoder(config["latent_dim"], **config["decoder"])
    return autoregressive.AutoregressiveVAE(decoder, **config["encoder"])


def run(name: str, seed: int, k: int, threads: int = 1) -> dict:
    config = CONFIGS[name]
    torch.set_num_threads(threads)
    start = time.perf_counter()
    torch.manual_seed(seed)  # initial weights (and the mixture's initial means)
    tr, va, te = (data.load_digits(s) for s in ("train", "val", "test"))
    model = build(name, config)
    cpu = time.process_time()
    hist = training.train(model, tr.x, va.x, generator=torch.Generator().manual_seed(seed), progress=False,
                          **config["train"])
    cpu = time.process_time() - cpu
    gen = torch.Generator().manual_seed(1000 + seed)
    out = {"seconds": hist.seconds, "cpu": cpu, "epochs": len(hist.val_loss), "best_epoch": hist.best_epoch + 1}
    if name == "ar_nolatent":
        exact = -autoregressive.exact_log_prob(model, te.x).double()
        check = nb06.importance_sampled_nll(model, te.x, ks=(10,), generator=gen)[10]
        if abs(check - exact.mean().item()) > 1e-3:
            raise AssertionError(f"IS ({check}) and exact ({exact.mean().item()}) −log p(x) differ")
        out.update(neg_elbo=exact.mean().item(), nll=exact.mean().item(), kl=0.0)
    else:
        batch = 2 if name == "ar" else 20  # an AR decoder runs once per draw: K·batch rows at a time
        est = nb06.importance_sampled_nll(model, te.x, ks=(1, k), generator=gen, batch_size=batch)
        kl = training.mean_terms(model, te.x, torch.Generator().manual_seed(2000 + seed))["kl"]
        out.update(neg_elbo=est[1], nll=est[k], kl=kl)
    out["total"] = time.perf_counter() - start
    return out


def write_results(path, rows: dict, medians: dict, k: int, seeds, threads: int, command: str = "",
                  date: str = "", cpu: str = "") -> None:
    """Write the results as `vae_course/nb07/benchmark.json` holds them (notebook 07 prints them from there, and
    tests/test_nb07_benchmark.py checks README's table against that file): per model the test −log p(x) of every
    seed and the medians (nll, neg_elbo, kl, cpu, seconds), two decimals; intro_dgm's quoted figures."""
    models = {name: {"nll_by_seed": [round(r["nll"], 2) for r in rows[name]],
                     "median": {key: round(medians[name][key], 2) for key in ("nll", "neg_elbo", "kl", "cpu", "seconds")}}
              for name in medians}
    references = {f"intro_dgm {name}": {"nll": nll, "seconds": seconds, "source": "issue 16"}
                  for name, (nll, seconds) in INTRO_DGM.items()}
    out = {"about": "Results of benchmarks/train_vae.py (write_results); README's benchmark table shows the same numbers.",
           "command": command, "date": date, "cpu": cpu, "threads": threads, "k": k, "seeds": list(seeds),
           "models": models, "references": references}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")


def _run(task: tuple) -> dict:
    return run(*task)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="+", choices=list(CONFIGS), default=["ar", "ar_nolatent", "vae", "mixture"])
    parser.add_argument("--k", type=int, default=1000, help="importance samples per test digit")
    parser.add_argument("--jobs", type=int, default=1, help="(model, seed) runs at a time, one process each")
    parser.add_argument("--write-results", metavar="FILE",
                        help="also write the results as JSON (vae_course/nb07/benchmark.json: what notebook 07 prints)")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive whole number, got {args.jobs}")
    torch.set_num_threads(args.threads)
    print(f"torch threads {args.threads} per run, {args.jobs} run(s) at a time, K = {args.k}")
    for name in args.models:
        print(f"{name}: {CONFIGS[name]}")
    tr, te = data.load_digits("train"), data.load_digits("test")
    pixel = nb06.pixel_categorical_nll(te.levels, nb06.fit_pixel_categoricals(tr.levels)).mean()
    print(f"baselines on test: uniform over 17 levels {nb06.uniform_nll(te.levels).mean():.2f} nats, "
          f"independent pixel categoricals {pixel:.2f} nats", flush=True)
    tasks = [(name, seed, args.k, args.threads) for name in args.models for seed in args.seeds]
    if args.jobs == 1:
        results = map(_run, tasks)
    else:  # fresh processes (spawn): each sets its own thread count and measures its own CPU time
        pool = multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=1)
        results = pool.imap(_run, tasks)
    rows = {name: [] for name in args.models}
    for (name, seed, *_), r in zip(tasks, results):  # in the order of the tasks, as each finishes
        rows[name].append(r)
        print(f"{name} seed {seed}: training {r['seconds']:.1f} s (CPU {r['cpu']:.1f} s; {r['epochs']} epochs, "
              f"best {r['best_epoch']}), test −ELBO {r['neg_elbo']:.2f}, test −log p(x) (K={args.k}) "
              f"{r['nll']:.2f} nats, KL {r['kl']:.2f} [total {r['total']:.1f} s]", flush=True)
    medians = {}
    for name in args.models:
        medians[name] = {key: statistics.median(r[key] for r in rows[name]) for key in rows[name][0]}
        m = medians[name]
        print(f"{name} median over {len(rows[name])} seeds: training {m['seconds']:.1f} s (CPU {m['cpu']:.1f} s), "
              f"test −ELBO {m['neg_elbo']:.2f}, test −log p(x) {m['nll']:.2f} nats, KL {m['kl']:.2f}", flush=True)
    print("\nsummary (medians; nats per test digit; training s wall / CPU):")
    for name, m in medians.items():
        print(f"  {name:12s} −log p(x) {m['nll']:7.2f}   −ELBO {m['neg_elbo']:7.2f}   KL {m['kl']:5.2f}   "
              f"{m['seconds']:5.1f} s / {m['cpu']:5.1f} s")
    for name, (nll, seconds) in INTRO_DGM.items():
        print(f"  intro_dgm {name:9s} −log p(x) {nll:7.2f}" + (f"   in {seconds} s" if seconds else "")
              + "   (quoted from issue 16)")
    if "ar" in medians and "ar_nolatent" in medians:
        gain = medians["ar_nolatent"]["nll"] - medians["ar"]["nll"]
        print(f"  the latent buys {gain:.2f} nats over the same decoder without one")
    if args.write_results:
        import platform
        import sys

        write_results(args.write_results, rows, medians, args.k, args.seeds, args.threads,
                      command=" ".join(["benchmarks/train_vae.py", *sys.argv[1:]]),
                      date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      cpu=f"{platform.processor() or platform.machine()}; torch {torch.__version__}")
        print(f"results written to {args.write_results}")


if __name__ == "__main__":
    main()
