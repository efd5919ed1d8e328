"""Secrets never appear in logs."""

from __future__ import annotations

import logging

from narcowatch import logs


def test_secret_settings_and_url_passwords_are_redacted(monkeypatch, caplog):
    monkeypatch.setenv("NARCOWATCH_DATABASE_URL", "postgresql+psycopg://nw:S3cr3tPw@db.internal/nw")
    monkeypatch.setenv("NARCOWATCH_TOR_PROXY", "socks5h://site42:circuitpass@127.0.0.1:9050")
    monkeypatch.setenv("NARCOWATCH_ALERT_WEBHOOK", "https://hooks.example/T000/very-secret-token-123")
    handler = logging.StreamHandler()
    records = []
    handler.emit = lambda record: records.append(handler.format(record))
    handler.addFilter(logs.RedactingFilter())
    log = logging.getLogger("narcowatch.test")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("connecting to %s", "postgresql+psycopg://nw:S3cr3tPw@db.internal/nw")
        log.info("proxy socks5h://other:pw2@10.0.0.1:9050 and password S3cr3tPw alone")
        log.info("posting to https://hooks.example/T000/very-secret-token-123")
        log.info("Authorization: Bearer abcdefghijklmnop")
        try:
            raise RuntimeError("failed with S3cr3tPw")
        except RuntimeError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    text = "\n".join(records)
    for secret in ("S3cr3tPw", "pw2", "very-secret-token-123", "abcdefghijklmnop"):
        assert secret not in text, secret
    assert "db.internal" in text  # what is not secret stays readable


def test_redact_keeps_plain_text():
    assert logs.redact("3.5g cocaine from NL", []) == "3.5g cocaine from NL"
