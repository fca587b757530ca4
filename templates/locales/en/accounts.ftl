# The account pages: sign in, registration, passwords, profile, sender details, API tokens.

## The account page
account-title = Your account
account-avatar-alt = Your avatar
account-email = E-mail
account-phone = Phone
account-role = Role
account-member-since = Member since
account-last-sign-in = Last sign-in
account-mailings-from = Mailings from
account-replies-to = Replies go to
account-replies-to-from = the From address
account-postal-address = Postal address
account-outgoing-mail = Outgoing mail
account-dkim-signed = DKIM-signed for { $domain } (selector { $selector }, { $algorithm })
account-dkim-unsigned = Not DKIM-signed
account-edit-profile = Edit profile
account-sender-details = Sender details
account-change-password = Change password

## API tokens
account-tokens-title = API tokens
account-tokens-lead-before = A token lets a program use the
account-tokens-lead-after = as you: send it as
account-tokens-scope = It sees only your clients, messages and mailings.
account-token-created = Token “{ $name }” created. Copy it now: it is stored only as a hash and will not be shown again.
account-tokens-col-name = Name
account-tokens-col-token = Token
account-tokens-col-created = Created
account-tokens-col-last-used = Last used
account-tokens-col-actions = Actions
account-token-never = never
account-token-revoke = Revoke
account-token-revoke-label = Revoke the token { $name }
account-tokens-empty = No tokens yet.
account-token-name = New token's name
account-token-name-help = What it is for, e.g. “CI” or “CRM sync”.
account-token-create = Create token

## Passwords
account-password-title = Change password
account-password-current = Current password
account-password-new = New password
account-password-new-again = New password again
account-password-help = At least 10 characters; not your e-mail, not a common password.
account-password-submit = Change password
account-new-password-title = A new password
account-new-password-question = Generate a new password?
account-new-password-lead-before = We will replace the password of
account-new-password-lead-after = with a new, strong one and mail it to that address. Every device signed in to the account will be signed out.
account-new-password-submit = Generate and mail it
account-request-new-title = Mail me a new password
account-request-new-lead = We will mail you a link; when you follow it, we generate a strong password and mail it to you.
account-request-reset-title = Reset your password
account-request-reset-lead = We will mail you a link to choose a new password. It is valid for one hour.
account-request-submit = Send the link
account-reset-title = Choose a new password
account-reset-for = For { $email }.
account-reset-submit = Set the password

## Links from e-mails
account-link-error-title = Link not valid
account-link-error-heading = This link cannot be used
account-link-error-reset = Reset your password
account-link-error-sign-in = Sign in
account-link-error-sign-in-note = (you can ask for a new confirmation link there)
account-reply-to-confirmed-title = Reply-to address confirmed
account-reply-to-confirmed-heading = Address confirmed
account-reply-to-confirmed-before = Replies to the mailings of { $account } now go to
account-reply-to-confirmed-home = Go to the home page

## Sign in and registration
account-login-title = Sign in
account-login-email = E-mail
account-login-password = Password
account-login-submit = Sign in
account-login-resend = Send the confirmation link again
account-login-forgot = Forgot your password?
account-login-new-password = Mail me a new password
account-login-register = Create an account
account-register-title = Create an account
account-register-lead = We will mail you a link to confirm your address before you can sign in.
account-register-password-again = Password again
account-register-phone = Phone (optional)
account-register-avatar = Avatar (optional)
account-register-avatar-help = PNG, JPEG, GIF or WebP, up to 5 MB.
account-register-submit = Create account
account-register-already = Already registered?
account-register-sign-in = Sign in

## Profile
account-profile-title = Edit profile
account-profile-avatar-alt = Your current avatar
account-profile-remove-avatar = Remove the avatar
account-profile-new-avatar = New avatar
account-profile-avatar-help = PNG, JPEG, GIF or WebP, up to 5 MB; shown as a 256×256 square.
account-save = Save
account-cancel = Cancel

## Sender details
account-sender-title = Sender details
account-sender-lead = Your mailings come from this service's address; you choose the name shown beside it and where replies go.
account-sender-name = Sender name
account-sender-name-help = Shown as the From name, e.g. “Flower Shop”. Empty: the service's own name.
account-sender-reply-to = Replies go to
account-sender-reply-to-now = Now: { $address }.
account-sender-reply-to-now-from = Now: the From address.
account-sender-reply-to-help = A new address is used once its owner opens the link we mail to it.
account-sender-postal = Postal address
account-sender-postal-help = One line at the foot of every mailing, as anti-spam laws ask of bulk senders.
account-language = Language of the site and your e-mails
account-language-browser = As my browser asks
account-language-save = Save language
account-timezone = Time zone
account-timezone-help = Times are shown and entered in it, e.g. Europe/Berlin; recurring mailings keep their local time in it.
account-timezone-register-help = Times are shown and entered in it, e.g. Europe/Berlin. Filled in from your browser.

## Problems written in Rust, with values
accounts-sign-in-throttled = Too many failed sign-ins for this address from your network. Try again in { $unit ->
        [seconds] { $count } { $count ->
            [one] second
           *[other] seconds
        }
       *[minutes] { $count } { $count ->
            [one] minute
           *[other] minutes
        }
    }, or reset your password.
