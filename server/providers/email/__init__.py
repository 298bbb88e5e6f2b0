"""Email delivery providers: SMTP (aiosmtplib) and a local maildir for offline runs."""
