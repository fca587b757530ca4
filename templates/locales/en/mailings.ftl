# The mailing pages: the list, the form, a mailing with its progress and report.
mailings-title = Mailings
mailings-number = Mailing #{ $id }
# A mailing's status, as its badge shows it.
mailing-status-created = created
mailing-status-running = running
mailing-status-finished = finished
mailing-status-disabled = disabled
# How often a mailing sends.
mailing-repeat-once = Once
mailing-repeat-daily = Daily
mailing-repeat-weekly = Weekly
mailing-repeat-monthly = Monthly
# The list's tabs.
mailings-filter-label = Filter by status
mailings-filter-all = All
mailings-filter-created = Created
mailings-filter-running = Running
mailings-filter-finished = Finished
mailings-filter-disabled = Disabled
mailings-new = New mailing
mailings-col-message = Message
mailings-col-clients = Clients
mailings-col-start = Start
mailings-col-end = End
mailings-col-repeats = Repeats
mailings-col-status = Status
mailings-none-created = No mailing is created.
mailings-none-running = No mailing is running.
mailings-none-finished = No mailing is finished.
mailings-none-disabled = No mailing is disabled.
mailings-none-match = No mailing matches.
mailings-show-all = Show all
mailings-empty = No mailings yet.
mailings-empty-hint = A mailing sends one of your messages to chosen clients, once or every day, week or month.
mailings-create = Create a mailing
mailings-edit = Edit
mailings-delete = Delete
mailings-cancel = Cancel
mailings-save = Save

# A mailing's page.
mailings-fact-message = Message
mailings-fact-start = Start
mailings-fact-end = End
mailings-fact-repeats = Repeats
mailings-fact-next-send = Next send
mailings-fact-clients = Clients ({ $count })
mailings-fact-tags = Tags
mailings-fact-recipients = Recipients now
mailings-fact-recipients-note = the clients picked and those carrying its tags, each once; counted again at every send.
mailings-send-now = Send now
mailings-disable = Disable
mailings-enable = Enable
mailings-progress-title = Delivery progress
mailings-progress-label = Deliveries settled
# After the counts, following a dash.
mailings-progress-starting = starting…
mailings-progress-nothing-yet = nothing has been sent yet.
mailings-progress-sending = sending…
mailings-progress-stopped-disabled = stopped: they go out once the mailing is enabled again.
mailings-progress-stopped-next-tick = stopped: they go out at the next scheduler tick.
mailings-progress-done = done.
# Each after a number.
mailings-progress-sent = sent
mailings-progress-failed = failed
mailings-progress-pending = waiting
mailings-progress-cancelled = stopped
mailings-progress-skipped = skipped (unsubscribed)
mailings-report-title = Report
mailings-report-empty = No attempts yet. They appear here as the mailing sends.
mailings-report-download = Download every attempt as CSV
# Under a number.
mailings-report-attempts = { $count ->
    [one] attempt
   *[other] attempts
}
mailings-report-successes = successful
mailings-report-failures = failed
# Followed by a date and time.
mailings-report-last-attempt = Last attempt
mailings-report-chart = Attempts per day of your time zone (successful / failed); failures are hatched.
mailings-report-col-recipient = Recipient
mailings-report-col-successes = Successful
mailings-report-col-failures = Failed
mailings-report-col-last-attempt = Last attempt
mailings-report-col-last-reply = Last reply
# How the last attempt went.
mailings-attempt-success = success
mailings-attempt-failure = failure

# The form.
mailings-new-title = New mailing
mailings-edit-title = Edit “{ $name }”
mailings-form-lead = It sends at once if now is between the start and the end; otherwise it starts by itself at the start time.
# Followed by the time now and ")."
mailings-form-need-both = You need a message and at least one client before you can create a mailing.
mailings-form-need-message = You need a message before you can create a mailing.
mailings-form-need-client = You need at least one client before you can create a mailing.
mailings-form-write-message = Write a message
mailings-form-add-client = Add a client
mailings-field-message = Message
mailings-field-message-choose = choose
mailings-field-repeats = Repeats
mailings-field-tags = Tags — every client carrying one of them, as tagged when each send goes out
mailings-field-tags-none = No tags yet: tag clients on their page or in a CSV import, then pick the tags here.
# "Clients picked by hand — 3 of 10 selected"
mailings-field-clients = Clients picked by hand
mailings-field-clients-of = of { $count } selected
mailings-field-clients-filter = Filter by name or e-mail
mailings-field-clients-filter-label = Filter clients
mailings-field-clients-all = Select all shown
mailings-field-clients-none = Select none

# Deleting, sending again.
mailings-delete-title = Delete “{ $name }”
mailings-delete-question = Delete “{ $name }”?
mailings-delete-explanation = It will stop sending, and its delivery log goes with it.
mailings-delete-confirm = Yes, delete
mailings-send-again-question = Send “{ $name }” again?
# After the number of recipients.
mailings-send-again-count = { $count ->
    [one] recipient already got it and will get it a second time.
   *[other] recipients already got it and will get it a second time.
}
mailings-send-again-confirm = Yes, send it again
mailings-form-zone = Times are in your time zone, { $zone } (now: { $now });
mailings-form-zone-change = change it
mailings-field-start = Start ({ $zone })
mailings-field-end = End ({ $zone })
mailings-field-start-help = A recurring mailing sends at this local time every time, summer and winter. A time the clocks skip is sent when they resume (02:30 → 03:00); a time that happens twice, the first time.
mailings-times-utc = Times are in your time zone, { $zone }.
mailings-search-placeholder = Search by name
mailings-search-label = Search mailings
mailings-col-name = Name
mailings-more-clients = and { $count } more
mailings-clients-unnamed = … and { $count } more, not named here
mailings-field-name = Name
mailings-field-name-help = What you call it in your lists and reports; your clients do not see it.
mailings-none-search = No mailing matches “{ $query }”.

## Problems written in Rust, with values
mailings-no-such-tags = You have no { $count ->
        [one] tag
       *[other] tags
    } named { $names }.
mailings-could-not-check-message = Could not check the message: { $detail }
mailings-could-not-check-tags = Could not check the tags: { $detail }
