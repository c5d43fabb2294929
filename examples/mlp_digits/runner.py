"""Tune a scikit-learn MLP on the digits data set: 16 trials, four at a time.

Run from the repository root:  python examples/mlp_digits/runner.py
Each trial reports validation accuracy after every epoch; the best configuration is printed
and every metric is in output_mlp_digits/results.csv.
"""

from pathlib import Path

import sherpa

HERE = Path(__file__).resolve().parent

parameters = [
    sherpa.Continuous("learning_rate", [1e-4, 1e-1], scale="log"),
    sherpa.Continuous("alpha", [1e-6, 1e-1], scale="log"),
    sherpa.Discrete("hidden_units", [16, 256], scale="log"),
    sherpa.Choice("activation", ["relu", "tanh", "logistic"]),
    sherpa.Ordinal("batch_size", [32, 64, 128, 256]),
]

best = sherpa.optimize(
    parameters=parameters,
    algorithm=sherpa.algorithms.RandomSearch(max_num_trials=16, seed=0),
    lower_is_better=False,
    scheduler=sherpa.schedulers.LocalScheduler(),
    filename=HERE / "trial.py",
    output_dir="output_mlp_digits",
    max_concurrent=4,
    verbose=1,
)
print(f"best validation accuracy {best['Objective']:.4f} (trial {best['Trial-ID']}):")
for name in sorted(p.name for p in parameters):
    print(f"  {name} = {best[name]}")
