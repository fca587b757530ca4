# The back office (/admin): its pages, the model names with their counts, and the pager words of macros.html.
admin-title = Administration
admin-models = Models
admin-breadcrumb = Breadcrumb
admin-col-model = Model
admin-col-links = Links
admin-add-short = Add
admin-list = List
admin-recent = Recent actions
admin-recent-empty = Nothing has been changed through the admin yet.

# What the audit trail records: the index's recent actions, then the history page.
admin-log-entry = { $what } · { $models } · { $object }
admin-log-add = add
admin-log-change = change
admin-log-delete = delete
admin-log-block = block
admin-log-unblock = unblock
admin-log-enable = enable
admin-log-disable = disable
admin-log-publish = publish
admin-log-unpublish = unpublish
admin-log-action-block = action:block
admin-log-action-unblock = action:unblock
admin-log-action-enable = action:enable
admin-log-action-disable = action:disable
admin-log-action-publish = action:publish
admin-log-action-unpublish = action:unpublish

# One object of a model, as in "Add client" ($what of the texts below).
admin-one-users = user
admin-one-mailings = mailing
admin-one-attempts = attempt
admin-one-clients = client
admin-one-global_suppressions = global suppression
admin-one-suppressions = suppression
admin-one-messages = message
admin-one-posts = post
admin-one-log = log entry

# A number of objects of a model.
admin-count-users = { $count ->
    [one] { $count } user
   *[other] { $count } users
}
admin-count-mailings = { $count ->
    [one] { $count } mailing
   *[other] { $count } mailings
}
admin-count-attempts = { $count ->
    [one] { $count } attempt
   *[other] { $count } attempts
}
admin-count-clients = { $count ->
    [one] { $count } client
   *[other] { $count } clients
}
admin-count-global_suppressions = { $count ->
    [one] { $count } global suppression
   *[other] { $count } global suppressions
}
admin-count-suppressions = { $count ->
    [one] { $count } suppression
   *[other] { $count } suppressions
}
admin-count-messages = { $count ->
    [one] { $count } message
   *[other] { $count } messages
}
admin-count-posts = { $count ->
    [one] { $count } post
   *[other] { $count } posts
}
admin-count-log = { $count ->
    [one] { $count } log entry
   *[other] { $count } log entries
}

# The change list.
admin-choose-change = Choose a { $what } to change.
admin-choose-view = Choose a { $what } to view.
admin-search-placeholder = Search { $fields }
admin-search-label = Search { $what }
admin-search = Search
admin-add = Add { $what }
admin-action = Action
admin-action-choose = Action…
admin-delete-selected = Delete selected { $what }
admin-go = Go
admin-select-across = All { $count } matching { $what }, on every page
admin-select-page = Select all on this page
admin-select-row = Select { $name }
admin-no-match = No { $what } matches “{ $q }”.
admin-none-here = No { $what } here.
admin-filters = Filters
admin-filter = Filter
admin-filter-by = By { $what }

# The add and change form.
admin-view = View { $what }
admin-change = Change { $what }
admin-history = History
admin-delete = Delete
admin-form-errors = Please correct the errors below.
admin-current-image = Current image
admin-remove-image = Remove the image
admin-save = Save
admin-save-continue = Save and continue editing
admin-save-add-another = Save and add another

# Deleting one object.
admin-delete-title = Delete { $name }
admin-delete-blocked = Cannot delete { $what } “{ $name }”
admin-delete-blocked-lead = These objects use it; delete or change them first:
admin-delete-ask = Delete { $what } “{ $name }”?
admin-delete-related = These related objects will be deleted with it:
admin-delete-nothing-else = Nothing else is deleted with it.
admin-delete-keeps = keep it
admin-and-more = and { $count } more
admin-back = Back
admin-yes-delete = Yes, delete
admin-no-back = No, take me back
# The objects that go with (or keep) the one deleted, by the label the model gives them.
admin-related-clients = { $count } clients
admin-related-messages = { $count } messages
admin-related-mailings = { $count } mailings
admin-related-api-tokens = { $count } API tokens
admin-related-attempts = { $count } attempts

# A bulk action asked first.
admin-action-ask = { $action }?
admin-applies-to = This applies to { $objects }:
admin-delete-related-too = Related objects that belong to them are deleted too.
admin-yes-sure = Yes, I’m sure

# An object's history.
admin-history-of = History of { $name }
admin-deleted = deleted
admin-col-when = When
admin-col-who = Who
admin-col-action = Action
admin-col-changes = Changes
admin-history-empty = No changes have been made to this object through the admin.

# A mailing's page, its recipients and its report.
admin-mailing-recipients-count = Recipients ({ $count })
admin-mailing-no-recipients = No recipients.
admin-mailing-all-recipients = All recipients
admin-mailing-report = Report
admin-mailing-recipients = Recipients
admin-mailing-recipients-of = Recipients of { $name }
admin-mailing-report-of = Report of { $name }
admin-mailing-no-recipients-at-all = This mailing has no recipients.
admin-mailing-deliveries = Deliveries
admin-mailing-attempts = Attempts
admin-mailing-no-attempts = No attempts yet.
admin-col-name = Name
admin-col-email = E-mail

# The Markdown hint of the post form.
admin-md-title = Markdown syntax
admin-md-lead = A post's body is Markdown: plain text with a few marks, shown on the blog as formatted text.
admin-md-you-type = You type
admin-md-readers-see = Readers see
admin-md-bold = bold
admin-md-italic = italic
admin-md-struck = struck
admin-md-heading = Heading
admin-md-smaller-heading = Smaller heading
admin-md-headings = headings
admin-md-link-text = our prices
admin-md-link = a link (http, https, mailto or this site)
admin-md-image-text = a photo
admin-md-image = an image
admin-md-item = item
admin-md-or = or
admin-md-one-a-line = , one a line
admin-md-list = a list
admin-md-quoted = quoted
admin-md-quotation = a quotation
admin-md-table = a table
admin-md-empty-line = an empty line
admin-md-paragraph = a new paragraph
admin-md-html = HTML typed into a post is shown as text, not run.
admin-md-back = Back to the posts

# The pager of every list (macros.html) — for the lead: these belong in site.ftl.
macros-previous = Previous
macros-next = Next
macros-in-all = { $count } in all

# Texts with values the admin crate writes (admin::phrase): form errors and messages.
admin-at-most-characters = At most { $count } { $count ->
        [one] character
       *[other] characters
    }.
admin-out-of-range = { $value } is out of range.
admin-no-object = There is no object #{ $id }.
admin-unique = Another { $model } already has this value.
admin-no-action = No action “{ $name }”.
admin-too-many-selected = At most { $count } objects can be handled at once; narrow the list first.
admin-delete-protected = { $name } cannot be deleted while other objects use it.
admin-deleted-selected = Deleted { $count } { $count ->
        [one] { $model }
       *[other] { $models }
    }.
admin-added = The { $model } “{ $name }” was added.
admin-changed = The { $model } “{ $name }” was changed.
admin-object-deleted = The { $model } “{ $name }” was deleted.
