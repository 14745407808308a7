"""Built-in outbound status sync plugins (`motcua.sync`)."""
