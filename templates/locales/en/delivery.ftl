# Why a delivery failed, in our own words (the attempt log's reasons on pages; the
# server's own replies are shown as received). Values such as `detail` are the words of a
# library, of the system or of the server, kept as they are.
delivery-reason-gave-up = gave up: { $count } { $count ->
    [one] try
   *[other] tries
} ended without a result
delivery-reason-template = the message's template has a mistake (edit the message): { $problems }
delivery-reason-field = { $part ->
    [subject] subject
   *[body] body
}: { $problem }
delivery-reason-and = { $first }; { $rest }
delivery-reason-render = the message's { $part ->
    [subject] subject
   *[body] body
} template fails for this client: { $problem }
delivery-reason-cannot-build = cannot build the e-mail: { $detail }
delivery-reason-message-deleted = the message was deleted
delivery-reason-bad-address = bad address { $address }: { $detail }
delivery-reason-name-line-break = the client's name has a line break, which cannot go in the To header: edit the client's name
delivery-reason-panic = internal error while sending: { $detail }
delivery-reason-outbox = written to the outbox as { $name }
delivery-reason-outbox-failed = cannot write to the outbox: { $detail }
delivery-reason-bad-envelope = bad envelope: { $detail }
delivery-reason-pool-stopped = the SMTP connections were stopped
delivery-reason-no-session = no SMTP session with { $server } within { $seconds } s (connect, greeting, EHLO, STARTTLS, AUTH)
delivery-reason-cannot-connect = cannot connect to { $server }: { $detail }
delivery-reason-nodelay = cannot set TCP_NODELAY: { $detail }
delivery-reason-setup = { $step ->
    [greeting] greeting/EHLO
    [tls] TLS set-up
    [starttls] STARTTLS
    [auth] AUTH
   *[ehlo] EHLO
} with { $server }: { $detail }
delivery-reason-no-starttls = { $server } does not offer STARTTLS, and SMTP_URL says tls=required
delivery-reason-no-reply = no reply to { $stage ->
    [start] the start of the transaction
    [mail-from] MAIL FROM
    [rcpt-to] RCPT TO
    [data] DATA
   *[end-of-data] the end of DATA (the server may have accepted the message)
} within { $seconds } s
delivery-reason-at-stage = at { $stage ->
    [start] the start of the transaction
    [mail-from] MAIL FROM
    [rcpt-to] RCPT TO
    [data] DATA
   *[end-of-data] the end of DATA (the server may have accepted the message)
}: { $detail }
delivery-reason-no-smtputf8 = an address is not ASCII but the server does not offer SMTPUTF8
delivery-reason-no-8bitmime = the message is not ASCII but the server does not offer 8BITMIME

# The test send's failure to go out (`messages-test-not-sent`).
mail-error-address = bad address { $address }
mail-error-build = cannot build the e-mail: { $detail }
mail-error-smtp = the SMTP server: { $detail }
mail-error-timeout = the SMTP server did not answer within { $count } s
mail-error-outbox = cannot write to the outbox: { $detail }
mail-error-sign = cannot sign with DKIM: { $detail }
