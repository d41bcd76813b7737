"""Luigi tasks of the pipeline: thin wiring of pset_4's and neural_style's functions."""
