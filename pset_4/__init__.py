"""pset_4: stylize content images with saved models, end to end as Luigi tasks.

``python -m pset_4`` downloads images and models from a remote root (S3 or the
embedded local store), stylizes them in-process (option B) or through
``python -m neural_style eval`` (option A), and prints where the results are.
"""
