from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended parameters (46 MiB, one pass, one lane).

    Django's defaults use 100 MiB per check, which makes every sign-in raise a web worker's memory
    by as much. Hashes made with other parameters are upgraded at the user's next sign-in.
    """

    memory_cost = 47104
    time_cost = 1
    parallelism = 1
