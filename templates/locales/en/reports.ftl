# The reports page (/reports).
reports-title = Reports
reports-range = Date range
reports-range-today = Today
reports-range-7d = 7 days
reports-range-30d = 30 days
reports-from = From
reports-to = To
reports-show-custom = Show custom range
reports-invalid = Correct the range above to see the report.
reports-from-to = From { $from } to { $to }
reports-total-deliveries = { $count ->
    [one] delivery
   *[other] deliveries
}
reports-total-successes = { $count ->
    [one] success
   *[other] successes
}
reports-total-failures = { $count ->
    [one] failure
   *[other] failures
}
reports-total-rate = success rate
reports-total-retries = { $count ->
    [one] retry
   *[other] retries
}
reports-total-unsubscribes = { $count ->
    [one] unsubscribe
   *[other] unsubscribes
}
reports-total-bounces = { $count ->
    [one] bounce
   *[other] bounces
}
reports-total-complaints = { $count ->
    [one] complaint
   *[other] complaints
}
reports-chart-caption = Attempts per day: successes solid, failures hatched; a dot marks a day with unsubscribes, bounces or complaints. The numbers are in the table below.
reports-chart-table = The chart as a table
reports-col-day = Day
reports-col-message = Message
reports-col-mailing = Mailing
reports-col-deliveries = Deliveries
reports-col-successes = Successes
reports-col-failures = Failures
reports-col-rate = Success rate
reports-col-retries = Retries
reports-col-unsubscribes = Unsubscribes
reports-col-bounces = Bounces
reports-col-complaints = Complaints
reports-col-last-attempt = Last attempt
reports-col-last-status = Last status
reports-col-last-reply = Last reply
reports-status-success = success
reports-status-failure = failure
reports-per-message = Per message
reports-per-mailing = Per mailing
reports-group-by = Group by
reports-by-mailing = By mailing
reports-by-message = By message
reports-download-csv = Download this table as CSV
reports-empty = No attempts from { $from } to { $to }.
reports-empty-hint = Choose a longer range, or
reports-empty-send = send a mailing.
reports-defs-title = What the figures count
reports-def-deliveries = E-mails (one client, one send of a mailing) whose first try was made in the range.
reports-def-successes = Tries in the range that the mail server accepted.
reports-def-failures = Tries in the range that the server refused, or that could not reach it.
reports-def-rate = Successes ÷ (successes + failures): the share of tries that got through.
reports-def-retries = Tries in the range beyond the first one of their delivery (tries − deliveries).
reports-def-unsubscribes = Recipients who unsubscribed in the range, by the link, their mail program's button or by mail, counted against the mailing whose e-mail they used.
reports-def-bounces = E-mails reported back as undeliverable in the range: at once by the receiving server, or later by a bounce message (hard: the address does not exist; soft: a temporary failure).
reports-def-complaints = Recipients who marked the e-mail as spam in the range (reports from their mail provider).
reports-def-last-attempt-term = Last attempt
reports-def-last-attempt = The latest try in the range, with the server's reply (or the error).
chart-title = Attempts per day: successes solid, failures hatched
chart-successes = Successes (solid)
chart-failures = Failures (hatched)
chart-said = Opt-outs, bounces (dot)
chart-highest = highest day: { $max }
chart-bar = { $successes } successful, { $failures } failed
chart-unsubscribes = { $count ->
    [one] { $count } unsubscribe
   *[other] { $count } unsubscribes
}
chart-bounces = { $count ->
    [one] { $count } bounce
   *[other] { $count } bounces
}
chart-complaints = { $count ->
    [one] { $count } complaint
   *[other] { $count } complaints
}
reports-lead = Your mailings' delivery attempts, per mailing or per message. Times and days are in your time zone, { $zone }.
