"""A test-only app: one model of customer data on the platform's bases, used to prove that the
access layer, the journal and the generic base views and viewsets work for any model."""
