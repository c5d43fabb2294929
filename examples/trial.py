"""The trial script of the reference workflow (see runner_mode.py)."""

import sherpa

client = sherpa.Client()
trial = client.get_trial()
for i in range(10):
    objective = trial.parameters["param_a"] / float(i + 1) * trial.parameters["param_b"]
    client.send_metrics(trial=trial, iteration=i + 1, objective=objective)
