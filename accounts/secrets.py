"""Bearer secrets that are stored only as a keyed hash: personal access tokens and the
calendar feed's token.

Why a fast keyed hash (HMAC-SHA256) and not a password hasher: these secrets are 256
random bits made by the server, not chosen by a person, so nobody can guess one from a
dictionary and slowing each guess down buys nothing; a password hasher would instead
cost tens of milliseconds on every API request. The key (derived from SECRET_KEY) means
a copy of the database alone is not enough even to check a guessed token offline.
Rotating SECRET_KEY therefore invalidates every such token (docs/security.md).
"""

import hashlib
import hmac
import secrets
from functools import lru_cache

from django.conf import settings

TOKEN_BYTES = 32
PREFIX_CHARACTERS = 8


@lru_cache(maxsize=8)
def _hash_key(purpose: str, secret_key: str) -> bytes:
    # Django's salted_hmac derives this key (a hash of salt and SECRET_KEY) on every call;
    # a token is hashed on every request it authenticates, so derive it once. Keyed by
    # SECRET_KEY too, so a changed setting (tests) takes effect.
    return hashlib.sha256(f"accounts.secrets.{purpose}{secret_key}".encode()).digest()


def secret_hash(secret: str, *, purpose: str) -> str:
    """The stored form of a secret: 64 hex digits, equal to Django's
    salted_hmac(f"accounts.secrets.{purpose}", secret, algorithm="sha256"). `purpose`
    keeps the hashes of one kind of secret useless as another kind."""
    key = _hash_key(purpose, settings.SECRET_KEY)
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def secret_new(*, marker: str) -> str:
    """`marker` followed by 256 random bits, URL-safe (pat_..., cal_...)."""
    return f"{marker}{secrets.token_urlsafe(TOKEN_BYTES)}"


def secret_prefix(secret: str, *, marker: str) -> str:
    """What is shown of a token: its marker and first random characters."""
    return secret[: len(marker) + PREFIX_CHARACTERS]
