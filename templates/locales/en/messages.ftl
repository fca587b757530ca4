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

## Mistakes in a message's templates (MiniJinja's own words only where no text fits)
messages-template-at = Line { $line }, column { $column }: { $problem }
messages-template-unknown-variable = Unknown variable `{ $name }`. You can use { $variables }.
messages-template-unknown-variable-but = Unknown variable `{ $name }`. Did you mean { $suggestion }?
messages-template-client-has-no = `client` has no `{ $name }`. The client's values are client.full_name, client.email, client.comment and client.attributes.<name>.
messages-template-client-has-no-but = `client` has no `{ $name }` (did you mean { $suggestion }?). The client's values are client.full_name, client.email, client.comment and client.attributes.<name>.
messages-template-sender-has-no = `sender` has no `{ $name }`. The sender's values are sender.name, sender.email and sender.postal.
messages-template-foreign = `{ $typed }` would be sent as typed. To insert the client's value write { $suggestion }.
messages-template-too-long = The rendered { $part ->
        [subject] subject
       *[body] body
    } is too long ({ $size } KB; at most { $max } KB).
messages-template-out-of-fuel = This template does too much work (a loop that runs too long or a macro that calls itself): make it simpler.
messages-template-no-include = Messages cannot include, import or extend other templates.
messages-template-undefined = This uses a value that does not exist. Give a fallback with `| default("…")`, or use one of: { $variables }.
messages-template-too-deep = This template nests too deeply (a macro that calls itself?).
messages-template-unknown-name = Unknown { $kind ->
        [filter] filter
        [test] test
        [method] method
       *[function] function
    } `{ $name }`.
messages-template-unknown-method = This value has no such method.
messages-template-too-many-arguments = Too many arguments are given to a filter or function.
messages-template-missing-argument = An argument of a filter or function is missing.
messages-template-cannot-unpack = These values cannot be unpacked into that many names.
messages-template-syntax = Syntax error (in MiniJinja's words): { $detail }.
messages-template-other = The template cannot be rendered (in MiniJinja's words): { $detail }.
