"""Training: the offline-corpora recipe that produces the shipped weights, and Aff-Wild2-format training."""
