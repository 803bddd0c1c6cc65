"""Files attached to any record that declares it takes attachments.

A module registers its model once (``platform.register_attachments(Deal, module="sales")``) and, for
its 360 page, the panel (``panels.attachments_panel``). From then on its records have upload,
preview, download and delete on the pages and at ``/api/v1/attachments/``, with the record's own
access rules, and deleting a record deletes its files.

- ``filetypes`` (with ``images``): what a file is, by its content; ``uploads``: the size limit while a
  file arrives;
- ``selectors`` / ``services``: reads and writes; ``responses``: serving the bytes safely;
- ``views``, ``urls``, ``panels``: pages; ``api``: the REST endpoints; ``signals``: clean-up.
"""
