def register() -> None:
    """Companies and contacts take attachments (called from CustomersConfig.ready)."""
