"""Likely duplicates (checked on create, edit and import; scanned on a schedule) and merging records,
with undo."""
