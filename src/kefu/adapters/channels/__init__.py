"""Inbound channel adapters: each platform's wire format in, one :class:`InboundMessage` out.

- :mod:`.wechat`      WeChat Official Account server callback (plaintext mode)
- :mod:`.weibo`       Weibo fans-service push and @mention statuses
- :mod:`.email_in`    RFC 5322 mail in, replies out
- :mod:`.smtp_server` an SMTP receiver (aiosmtpd) that hands each mail to a callback
- :mod:`.imap_poll`   fetch unseen mail from an IMAP mailbox

They parse and format only: no database, no routes. The value they produce and the errors they
raise live in :mod:`kefu.domain.service.channels`.
"""
