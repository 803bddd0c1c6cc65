"""Fields an administrator adds to companies and contacts: definitions, typed validation, and how they
appear in forms, lists, filters, the API, imports and exports."""
