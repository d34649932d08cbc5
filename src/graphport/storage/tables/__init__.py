"""Every storage operation written once, over the `Db` seam (storage/db.py): one module per
resource, each a set of flows and the `Storage` methods that run them."""
