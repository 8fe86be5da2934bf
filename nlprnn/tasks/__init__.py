"""Tasks: the glue from a config to data, model, training, evaluation and prediction."""
