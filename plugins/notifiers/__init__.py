"""Built-in notifiers (`motcua.notifiers`)."""
