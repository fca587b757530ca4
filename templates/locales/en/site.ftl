# The frame of every page: menu, footer, switcher, pager, error page.
nav-skip = Skip to content
nav-home = Home
nav-blog = Blog
nav-dashboard = Dashboard
nav-clients = Clients
nav-messages = Messages
nav-mailings = Mailings
nav-admin = Admin
nav-reports = Reports
nav-account = Account
nav-sign-out = Sign out
nav-sign-in = Sign in
nav-register = Create account
nav-menu = Menu
flash-dismiss = Dismiss
footer-tagline = Mailer — self-hosted mailings.
footer-status = Status
lang-switch = Language
pager-label = Pages
pager-page-of = Page { $page } of { $pages }
error-back-home = Back to the home page

## Problems written in Rust, with values (web/forms.rs, web/error.rs, validation.rs)
site-file-too-large = The file is larger than { $count } MB.
site-text-too-large = The text is larger than { $count } MB.
site-request-too-large = What you sent is larger than { $count } MB, the most this page accepts.
site-value-not-valid = This value is not valid ({ $code }).
site-form-unreadable = The form could not be read: { $detail }
site-field-unreadable = This field could not be read: { $detail }
