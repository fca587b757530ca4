# The message pages: the list, the form, the preview, deleting.
messages-title = Messages
messages-count = { $count ->
    [one] { $count } message
   *[other] { $count } messages
} ready for your mailings.
messages-search-placeholder = Search by subject or text
messages-search-label = Search messages
messages-write = Write message
messages-col-subject = Subject
messages-col-mailings = Mailings
messages-col-text = Text
messages-col-created = Created
messages-col-updated = Updated
messages-col-actions = Actions
messages-preview = Preview
messages-edit = Edit
messages-delete = Delete
messages-cancel = Cancel
messages-none-match = No message matches “{ $query }”.
messages-show-all = Show all
messages-empty = You have no messages yet.
messages-empty-hint = A message is the subject and text a mailing sends. Write one, then use it in a mailing.

# The form.
messages-write-title = Write message
messages-edit-title = Edit message
messages-field-subject = Subject
messages-field-body = Text
messages-field-body-help = Markdown (**bold**, [links](https://…), lists); line breaks are kept. Personalise with {"{{"} client.full_name {"}}"}, {"{{"} client.email {"}}"}, {"{{"} client.comment {"}}"}, {"{{"} sender.name {"}}"}, {"{{"} today {"}}"}; a fallback: {"{{"} client.full_name | default("friend") {"}}"}.
messages-save = Save
messages-save-new = Save message

# The preview.
messages-preview-lead = The message as the recipient will see it.
messages-all = All messages
messages-preview-label = E-mail preview
messages-preview-for = Preview for
messages-preview-show = Show
messages-preview-sample = No clients yet: the preview uses a sample recipient.
messages-header-from = From
messages-header-reply-to = Reply-To
messages-header-to = To
messages-header-subject = Subject
# Followed by the error.
messages-preview-error = This message cannot be rendered for this client:
messages-test-send = Send a test to me
messages-test-note = Goes at once to { $email }, as this client would get it, marked “[Test]”; not counted in reports ({ $count } per 10 minutes).
messages-preview-html-part = The HTML part of the e-mail
messages-preview-text-part = Plain text
messages-preview-template = Template
# Followed by a date and time.
messages-created = Created
messages-updated = updated
messages-mailings-title = Mailings that send it
messages-mailings-none = No mailing uses this message yet.

# Deleting.
messages-delete-title = Delete message
messages-delete-question = Delete “{ $subject }”?
messages-delete-blocked = { $count ->
    [one] This message is used by mailing { $mailings }. Delete it or give it another message first.
   *[other] This message is used by mailings { $mailings }. Delete them or give them another message first.
}
messages-back-to-message = Back to the message
messages-delete-explanation = The message will be removed for good. No mailing uses it; delivery history stays in your reports.
messages-delete-confirm = Yes, delete

## Problems written in Rust, with values
messages-in-use = This message is used by { $count ->
        [one] mailing { $names }. Delete it or give it another message first.
       *[other] mailings { $names }. Delete them or give them another message first.
    }
messages-test-cannot-render = The message cannot be rendered: { $reason }
messages-test-not-sent = The test could not be sent: { $reason }
