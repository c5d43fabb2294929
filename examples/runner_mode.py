"""SHERPA's reference workflow: ten trials of trial.py, two at a time.

Run from the repository root:  python ./examples/runner_mode.py
Results go to ./out (the store sherpa.db, results.csv and each trial's log in out/jobs/).
"""

import os

import sherpa

parameters = [
    sherpa.Choice(name="param_a", range=[1, 2, 3]),
    sherpa.Continuous(name="param_b", range=[0, 1]),
]
algorithm = sherpa.algorithms.RandomSearch(max_num_trials=10)
scheduler = sherpa.schedulers.LocalScheduler()
results = sherpa.optimize(
    parameters=parameters,
    algorithm=algorithm,
    lower_is_better=True,
    filename=os.path.join(os.path.dirname(os.path.abspath(__file__)), "trial.py"),
    output_dir="out",
    scheduler=scheduler,
    max_concurrent=2,
    verbose=1,
)
print("best result:", results)
