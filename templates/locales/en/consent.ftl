# The suppression list (the owner's pages) and the recipient's unsubscribe page.

## Why an address is on the list (badges, the unsubscribe page)
consent-reason-unsubscribed = unsubscribed
consent-reason-bounced = bounced
consent-reason-complained = complained
consent-reason-listed = listed

## The list
consent-list-title = Suppression list
consent-list-lead = Addresses none of your mailings will send to, whichever client holds them — even after you delete and import a client again.
consent-search-placeholder = Search by address or note
consent-search-label = Search the list
consent-import-csv = Import CSV
consent-export-csv = Export CSV
consent-filter-label = Filter by reason
consent-filter-all = All
consent-filter-unsubscribed = Unsubscribed
consent-filter-bounced = Bounced
consent-filter-complained = Complained
consent-filter-listed = Added by you
consent-add-title = Add an address
consent-add-email = E-mail address
consent-add-note = Note (optional)
consent-add-note-help = Why it is here, for you to read later.
consent-add-submit = Add to the list
consent-col-email = E-mail
consent-col-reason = Reason
consent-col-note = Note or reply
consent-col-since = Since
consent-col-actions = Actions
consent-remove = Remove
consent-recipients-choice = recipient's choice
consent-recipients-choice-hint = Only the recipient can take this back, from the link in any of your e-mails.
consent-no-match = Nothing on your list matches.
consent-show-all = Show all
consent-empty-title = Your suppression list is empty.
consent-empty-lead = Recipients who unsubscribe, addresses that bounce and recipients who mark your e-mail as spam appear here by themselves. You can add addresses yourself too.
consent-back-to-list = Back to the list
consent-cancel = Cancel

## Taking an address off the list
consent-remove-title = Remove from the suppression list
consent-remove-question = Mail { $email } again?
consent-remove-on-list = is on your list as { $reason } since
consent-remove-effect = Taken off, it gets your mailings again from their next send.
consent-remove-bounced-warning = Do this only if you know the mailbox exists again: mailing addresses that bounce harms the delivery of all your mail.
consent-remove-submit = Yes, mail it again
consent-locked-title = Only the recipient can undo this
consent-locked-complained-on = marked your e-mail as spam on
consent-locked-unsubscribed-on = unsubscribed on
consent-locked-lead = Only they can take it back, from the unsubscribe link in any of your e-mails. Nobody else can re-subscribe them.

## Import
consent-import-title = Import a suppression list
consent-import-heading = Import addresses to suppress
consent-import-lead-columns = One address per row: the first column, or the column headed
consent-import-lead-note-before = a
consent-import-lead-note-after = column is kept as the note. Separated by
consent-import-lead-or = or
consent-import-lead-encoding = , saved as UTF-8. An export of this list imports as it is.
consent-import-added = { $count ->
    [one] Added { $count } address
   *[other] Added { $count } addresses
}
consent-import-already = { $count ->
    [one] { $count } was on your list already
   *[other] { $count } were on your list already
}
consent-import-skipped = { $count ->
    [one] { $count } row skipped
   *[other] { $count } rows skipped
}
consent-import-col-line = Line
consent-import-col-why = Why it was skipped
consent-import-file = CSV file
consent-import-file-help = Up to 10 MB.
consent-import-submit = Import

## The recipient's unsubscribe page
consent-unsub-title = Unsubscribe
consent-unsub-ask-title = Unsubscribe?
consent-unsub-ask-lead = Stop the e-mails this sender sends to
consent-unsub-submit = Unsubscribe
consent-unsub-done-title = You are unsubscribed
consent-unsub-done-because = gets no more e-mails from this sender ({ $reason }).
consent-unsub-done = will get no more e-mails from this sender.
consent-unsub-undo = Undo: keep getting them
consent-unsub-back-title = Welcome back
consent-unsub-back-still = still gets no e-mails from this sender ({ $reason }).
consent-unsub-back = gets this sender's e-mails again.
consent-unsub-again = Unsubscribe after all
consent-unsub-gone-title = Nothing to unsubscribe from
consent-unsub-gone = This sender has removed the address from their list: no more e-mails will come from it.
consent-unsub-preview-title = This is a test
consent-unsub-preview = In a preview or a test e-mail this link changes nothing. Each recipient's e-mail has a link of their own that unsubscribes them.
consent-unsub-busy-title = Please try again in a minute
consent-unsub-busy = The service is busy. Nothing was changed.
consent-unsub-invalid-title = This link is not valid
consent-unsub-invalid = Check that you copied all of it from the e-mail.
