"""The email channel: one message per notice over SMTP (``smtplib``), UTF-8 subject and body.

The notice id is the ``Message-ID`` (``<id@fengqiao.notices>``): a resend after a crash is the
same message to any mail system that tells copies apart. STARTTLS is on unless turned off, and
a password is only ever sent over it (checked at start-up).

The server's 5xx answers about the message or its recipient (refused, unknown mailbox, invalid
address) are permanent (a dead letter); 4xx answers, a lost connection, a timeout, a refused
login or TLS that cannot be started are retried. What is kept of a failure is its SMTP code,
never the address.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import NoReturn

from api.wiring.notify_settings import SmtpSettings
from scheduler.dispatch import Outgoing, PermanentFailure, TransientFailure

MESSAGE_ID_DOMAIN = "fengqiao.notices"


def message_id(notice: str) -> str:
    return f"<{notice}@{MESSAGE_ID_DOMAIN}>"


class EmailSender:
    def __init__(self, settings: SmtpSettings, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout

    def message(self, outgoing: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = outgoing.address
        mail["Subject"] = outgoing.subject
        mail["Message-ID"] = message_id(outgoing.id)
        mail["Date"] = formatdate(usegmt=True)
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(outgoing.text + "\n", charset="utf-8")
        return mail

    def send(self, message: Outgoing) -> None:
        settings = self.settings
        mail = self.message(message)
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=self.timeout) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.user and settings.password:
                    smtp.login(settings.user, settings.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = sorted({code for code, _ in refused.recipients.values()})
            _raise(codes[0] if codes else 550, "recipient refused")
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            _raise(error.smtp_code, "message refused")
        except smtplib.SMTPAuthenticationError as error:
            raise TransientFailure(f"SMTP login refused ({error.smtp_code})") from None
        except smtplib.SMTPResponseException as error:
            raise TransientFailure(f"SMTP answered {error.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise TransientFailure(f"SMTP unreachable: {type(error).__name__}") from None


def _raise(code: int, what: str) -> NoReturn:
    if 500 <= code < 600:
        raise PermanentFailure(f"SMTP {what} ({code})")
    raise TransientFailure(f"SMTP {what} ({code})")
