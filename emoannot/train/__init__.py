"""Training: the offline-corpora recipe that produces the shipped weights, and Aff-Wild2-format training."""

#: epochs of the expression CNN in the offline recipe (here, not in fit_cnn, so that the CLI's help can say it
#: without importing torch)
CNN_EPOCHS = 20
