# The dashboard: mailings by status, the week in figures, next sends, recent failures.
dashboard-title = Dashboard
dashboard-statuses-title = Mailings by status
# Under a number of mailings.
dashboard-status-created = Created
dashboard-status-running = Running
dashboard-status-finished = Finished
dashboard-status-disabled = Disabled
dashboard-steps-title = Three steps to your first mailing:
dashboard-step-clients = Add your clients
# "(or import a CSV file)", the second part a link.
dashboard-step-or = or
dashboard-step-import = import a CSV file
dashboard-step-message = Write a message
dashboard-step-mailing = Create a mailing
dashboard-step-mailing-hint = Create a mailing: pick the message, the clients and when it goes out
dashboard-week-title = The last 7 days
# Each after a number.
dashboard-week-deliveries = { $count ->
    [one] delivery
   *[other] deliveries
}
dashboard-week-successes = { $count ->
    [one] success
   *[other] successes
}
dashboard-week-failures = { $count ->
    [one] failure
   *[other] failures
}
dashboard-week-retries = { $count ->
    [one] retry
   *[other] retries
}
dashboard-week-rate = { $rate } success rate
dashboard-week-open-report = Open the report
dashboard-col-mailing = Mailing
dashboard-col-deliveries = Deliveries
dashboard-col-successes = Successes
dashboard-col-failures = Failures
dashboard-col-report = Report
dashboard-week-empty = Nothing was sent in the last 7 days.
dashboard-week-empty-link = Reports cover any range.
dashboard-next-title = Next scheduled sends
dashboard-next-report = report
dashboard-next-empty = Nothing is scheduled.
dashboard-failures-title = Recent failures
dashboard-failures-col-when = When
dashboard-failures-col-recipient = Recipient
dashboard-failures-col-reply = Server's reply
dashboard-failures-empty = No failed attempts.
dashboard-lead = Your mailings at a glance. Times are in your time zone, { $zone }.
