"""Email through Django's email framework (SMTP in production, console or file in the demo)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.channels import PermanentDeliveryError, RetryableDeliveryError


def send_email(*, to: str, subject: str, text: str, html: str) -> None:
    """Send one multipart (text + HTML) message; SMTP 5xx is permanent, the rest retryable."""
    message = EmailMultiAlternatives(
        subject=subject.replace("\n", " ")[:200],
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=get_connection(
            fail_silently=False, timeout=settings.NOTIFICATIONS_EMAIL_TIMEOUT
        ),
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            raise PermanentDeliveryError(f"Recipient refused ({codes[0]})") from exc
        raise RetryableDeliveryError(f"Recipient deferred ({codes[0]})") from exc
    except smtplib.SMTPResponseException as exc:
        text_error = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        if 500 <= exc.smtp_code < 600:
            raise PermanentDeliveryError(f"SMTP {exc.smtp_code}: {text_error}"[:500]) from exc
        raise RetryableDeliveryError(f"SMTP {exc.smtp_code}: {text_error}"[:500]) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise RetryableDeliveryError(
            f"SMTP unavailable: {exc.__class__.__name__}: {exc}"[:500]
        ) from exc
