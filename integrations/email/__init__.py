"""The e-mail connector: Amazon SES, SendGrid, Mailgun and SMTP behind one interface."""
