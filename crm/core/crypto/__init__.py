"""Field-level encryption: keys (``keyring``, ``keyfile``), encrypted model fields (``fields``),
and masking with an audit of reads (``masking``)."""
