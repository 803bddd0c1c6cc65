"""Hardening of the platform: security headers (Content-Security-Policy, Permissions-Policy), a rate
limit on failed API sign-ins, the tamper-evident audit chain and the audit entries of exports."""
