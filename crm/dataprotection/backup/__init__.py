"""Encrypted full and incremental backups of the whole database and the attached files, and their
verified restore into an empty database of either engine.

    choices      kinds, states and destinations
    codec        column values as stored, in engine-neutral JSON, and row checksums
    catalogue    every table, its columns, and how an incremental finds its changes (policies)
    policies     the explicit classification of tables the change journal does not cover
    digests      short per-row hashes that find changes the journal does not show
    archive      the framed, compressed stream inside a backup file
    crypto       age encryption to the administrators' public keys (pyrage)
    destinations a local folder or S3-compatible storage
    dump         reading one consistent snapshot into a full backup's stream
    incremental  what changed since the previous backup of a chain
    engine       running a backup: lock, bookkeeping, snapshot, encryption, storage, retention
    chain        the files a restore reads: fetched, checked and decrypted before anything is written
    restore      loading a checked chain into an empty database, in a process of its own
    loader       writing rows into the target database (COPY on PostgreSQL) and checking them
    verify       restoring the latest chain into a scratch database, recorded on its backups
    ledger       the erasure ledger kept beside the backups
    schedule     what is due, and retention
    services     the writes of the backups page; selectors its reads
    testing      helpers of the tests; bench the benchmark (``python -m crm.dataprotection.backup.bench``)

Nothing here is imported by the rest of the CRM except through ``crm.dataprotection``.
"""
