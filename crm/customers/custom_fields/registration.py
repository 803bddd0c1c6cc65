def register() -> None:
    """Register this part of the customers module with the platform (called from CustomersConfig.ready)."""
