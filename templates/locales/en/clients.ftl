# The client pages: the address book, the client form, the CSV import.
clients-title = Clients
clients-count = { $count ->
    [one] { $count } recipient
   *[other] { $count } recipients
} in your address book.
clients-search-placeholder = Search by e-mail or name
clients-search-label = Search clients
clients-add = Add client
clients-import-csv = Import CSV
clients-export-csv = Export CSV
clients-filter-state-label = Filter by state
clients-filter-tag-label = Filter by tag
clients-filter-all = All
clients-filter-active = Active
clients-filter-unsubscribed = Unsubscribed
clients-filter-bounced = Bounced
clients-filter-complained = Complained
clients-filter-listed = Suppressed
clients-filter-any-tag = Any tag
clients-suppression-list = Suppression list
clients-col-name = Name
clients-col-email = E-mail
clients-col-full-name = Full name
clients-col-comment = Comment
clients-col-tags = Tags
clients-col-state = State
clients-col-added = Added
clients-col-actions = Actions
# A client's state, as its badge shows it.
clients-state-active = active
clients-state-unsubscribed = unsubscribed
clients-state-bounced = bounced
clients-state-complained = complained
clients-state-listed = suppressed
clients-state-listed-global = on the instance’s suppression list
clients-state-listed-own = on your suppression list
# Followed by a date.
clients-state-since = since
clients-edit = Edit
clients-delete = Delete
clients-cancel = Cancel
clients-save = Save
clients-none-match = No client matches
clients-none-match-query = “{ $query }”
clients-none-match-state = in the state “{ $state }”
clients-none-match-tag = with the tag “{ $tag }”
clients-show-all = Show all
clients-empty = Your address book is empty.
clients-empty-hint = Add your first client, or import a CSV file with e-mail, full name and comment columns.

# The client form.
clients-add-title = Add client
clients-edit-title = Edit client
clients-field-email = E-mail
clients-field-full-name = Full name
clients-field-comment = Comment
clients-field-tags = Tags
clients-field-tags-help = Separated by commas, e.g. customers, vip. A tag you have not used yet is made for you.
clients-field-attributes = Attributes
clients-field-attributes-help = One per line as name: value, e.g. plan: gold. A name is letters a–z, digits and _, starting with a letter; messages can use it.

# Deleting a client.
clients-delete-title = Delete client
clients-delete-question = Delete { $name }?
# After the client's address.
clients-delete-explanation = will be removed from your address book and from every mailing that sends to it. Delivery history stays in your reports.
clients-delete-confirm = Yes, delete

# The CSV import. The parts around the separators "," and ";" (shown as code).
clients-import-title = Import clients
clients-import-heading = Import clients from CSV
clients-import-columns = Columns: e-mail, full name, comment — with or without a header row, separated by
clients-import-or = or
clients-import-columns-end = , saved as UTF-8. You will see a preview before anything is added; addresses you already have are skipped.
# "With a header row, a `tags` column (names separated by `,` or `;`) tags the clients, … (`Plan Type` → `plan_type`)."
clients-import-header-tags = With a header row, a
clients-import-header-tags-names = column (names separated by
clients-import-header-attributes = ) tags the clients, and every other column becomes an attribute named after its header (
clients-import-file = CSV file
clients-import-file-help = Up to 10 MB.
clients-import-progress = Upload progress
clients-import-upload = Upload and preview

# The import's preview.
clients-preview-title = Import preview
clients-preview-title-file = Import preview: { $file }
# Under a number.
clients-preview-valid = to import
clients-preview-duplicates = { $count ->
    [one] duplicate, skipped
   *[other] duplicates, skipped
}
clients-preview-invalid = { $count ->
    [one] row with errors, skipped
   *[other] rows with errors, skipped
}
clients-preview-read = { $count ->
    [one] { $count } row read
   *[other] { $count } rows read
}, separated by “{ $delimiter }”.
clients-preview-read-after-header = { $count ->
    [one] { $count } row read
   *[other] { $count } rows read
} after the header row, separated by “{ $delimiter }”.
clients-preview-sample = The table shows the first rows and the rows with errors.
clients-preview-tags-column = Tags are read from the tags column.
# Followed by the attribute names.
clients-preview-attributes = Attributes:
clients-preview-skipped = These columns are not imported:
# A column left out and why.
clients-preview-skipped-column = “{ $header }”: { $reason }.
clients-preview-col-line = Line
clients-preview-col-extra = Tags and attributes
clients-preview-col-verdict = Verdict
clients-preview-duplicate = duplicate
clients-preview-new = new
clients-preview-import = { $count ->
    [one] Import { $count } client
   *[other] Import { $count } clients
}
clients-preview-another = Choose another file

## Problems with a client's attributes, tags and CSV lines (written in Rust, with values)
clients-attr-name-too-long = The name “{ $name }” is longer than { $count } characters.
clients-attr-name-start = The name “{ $name }” must start with a letter (a–z).
clients-attr-name-letters = The name “{ $name }” may hold only letters a–z, digits and _.
clients-attr-name-reserved = “{ $name }” is one of the client's own fields.
clients-attr-value-nul = The value of “{ $name }” contains a NUL character.
clients-attr-value-line = Keep the value of “{ $name }” on one line.
clients-attr-value-too-long = The value of “{ $name }” is longer than { $count } characters.
clients-attr-line-no-colon = Line { $line }: write it as “name: value” (no colon found).
clients-attr-line-problem = Line { $line }: { $problem }
clients-attr-line-repeated = Line { $line }: “{ $name }” is already set on line { $first }.
clients-tag-separator = The tag “{ $tag }” holds a , or ; (they separate tags).
clients-tag-too-long = The tag “{ $tag }…” is longer than { $count } characters.
clients-import-cells = This line has { $count } { $count ->
        [one] cell
       *[other] cells
    } where the header has { $header }.
clients-import-cells-no-header = This line has { $count } { $count ->
        [one] cell
       *[other] cells
    }: without a header row, a line holds the e-mail, the name and, if you like, a comment.
clients-import-field-problem = { $field }: { $problem }
clients-import-skip-same-name = the same attribute name ({ $name }) as the column “{ $column }”
clients-import-skip-reserved = “{ $name }” is one of the client's own fields
clients-import-skip-too-many = more than { $count } attribute columns
clients-attr-twice = “{ $name }” is given twice (names ignore case).
clients-could-not-check-address = Could not check the address: { $detail }
