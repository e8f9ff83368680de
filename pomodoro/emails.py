"""How an email address is compared and stored. Kept free of models so that pomodoro.throttling
can use it without loading the app registry."""


def normalize_email(email: str) -> str:
    """The whole address, trimmed and lower-cased: stored this way, login by email is
    case-insensitive (Django's BaseUserManager.normalize_email lowers only the domain)."""
    return email.strip().lower()
