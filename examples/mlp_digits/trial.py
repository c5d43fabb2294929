"""One trial: train a scikit-learn MLP on the digits data set, reporting accuracy per epoch.

The data ship inside scikit-learn; nothing is downloaded. The split is fixed, so every trial
sees the same training and validation sets.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import sherpa

EPOCHS = 10

client = sherpa.Client()
trial = client.get_trial()
p = trial.parameters

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

model = MLPClassifier(
    hidden_layer_sizes=(p["hidden_units"],),
    activation=p["activation"],
    alpha=p["alpha"],
    learning_rate_init=p["learning_rate"],
    batch_size=p["batch_size"],
    random_state=trial.id,
)
rng = np.random.default_rng(trial.id)
classes = np.unique(y)
for epoch in range(1, EPOCHS + 1):
    order = rng.permutation(len(X_train))
    for start in range(0, len(order), p["batch_size"]):
        batch = order[start : start + p["batch_size"]]
        model.partial_fit(X_train[batch], y_train[batch], classes=classes)
    client.send_metrics(
        trial=trial,
        iteration=epoch,
        objective=model.score(X_val, y_val),
        context={"train_accuracy": model.score(X_train, y_train), "loss": model.loss_},
    )
