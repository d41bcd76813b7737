"""Luigi tasks built on csci_utils: the dependency audit (`csci_utils.tasks.audit`)."""
