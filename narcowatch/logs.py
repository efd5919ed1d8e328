"""Logging set-up: secrets (database and proxy passwords, SMTP credentials, tokens) never reach a log line."""

from __future__ import annotations

import logging
import re

from narcowatch import settings

# user:password@ in any URL-like string
CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def _secret_values() -> list[str]:
    values = []
    for name, setting in settings.SETTINGS.items():
        if setting.secret and (value := settings.get(name)):
            match = CREDENTIALS_IN_URL.search(value)
            # a URL with credentials: only its password is secret, the host stays readable in logs
            values.append(match.group("pw") if match else value)
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    for value in secrets if secrets is not None else _secret_values():
        text = text.replace(value, "***")
    text = CREDENTIALS_IN_URL.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:***@", text)
    return BEARER.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message; attached to handlers so every logger's output passes it."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = _secret_values()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
        return True


def configure(level: str | None = None) -> None:
    level_name = (level or settings.get("NARCOWATCH_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=getattr(logging, level_name, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redactor)
    # alembic narrates every context at INFO; the commands say what happened themselves
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # fontTools (PDF font subsetting) and scrapy's start-up banner narrate at INFO; a user wants results
    for chatty in ("fontTools", "scrapy.utils.log", "scrapy.crawler", "scrapy-playwright", "matplotlib"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
