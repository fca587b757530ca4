# The account e-mails (templates/mail): subjects, the frame, and each e-mail's text.

## Subjects (set in Rust: app/src/accounts/service.rs and sender.rs)
mail-subject-verify = Confirm your e-mail address
mail-subject-registration-attempt = Someone tried to register with your address
mail-subject-reset-password = Reset your password
mail-subject-new-password-confirm = Confirm: a new password for Mailer
mail-subject-new-password = Your new Mailer password
mail-subject-confirm-reply-to = Confirm where replies to your mailings go

## Shared
mail-hello = Hello,
mail-or-open-link = Or open this link: { $link }
mail-footer = You get this e-mail because of an action on your Mailer account at { $site }. If it was not you, ignore it.
mail-valid-one-hour = The link is valid for one hour.
mail-ignore-if-not-you = If it was not you, ignore this e-mail.

## Confirm the address (verify)
mail-verify-intro = please confirm your e-mail address for Mailer:
mail-verify-intro-text = please confirm your e-mail address for Mailer by opening this link:
mail-verify-button = Confirm my address
mail-verify-valid-text = The link is valid for one hour. If you did not create an account, ignore this e-mail.

## Reset the password
mail-reset-intro = someone (we hope you) asked to reset the password of your Mailer account.
mail-reset-intro-text = someone (we hope you) asked to reset the password of your Mailer account. Choose a new one here:
mail-reset-button = Choose a new password
mail-reset-valid = The link is valid for one hour and works once. If you did not ask, ignore this e-mail.
mail-reset-valid-text = The link is valid for one hour and works once. If you did not ask, ignore this e-mail: your password stays as it is.

## "Mail me a new password": the confirmation, then the password
mail-new-password-confirm-intro = someone (we hope you) asked us to generate a new password for your Mailer account.
mail-new-password-confirm-intro-text = someone (we hope you) asked us to generate a new password for your Mailer account. To get it, open this link and confirm:
mail-new-password-confirm-button = Confirm and get a new password
mail-new-password-confirm-valid = The link is valid for one hour. If you did not ask, ignore this e-mail.
mail-new-password-confirm-valid-text = The link is valid for one hour. If you did not ask, ignore this e-mail: your password stays as it is.
mail-new-password-is = your new Mailer password is:
mail-new-password-sign-in = Sign in
mail-new-password-change = and change it on your account page. Every device that was signed in has been signed out.
mail-new-password-sign-in-text = Sign in at { $link } and change it on your account page. Every device that was signed in has been signed out.

## Someone tried to register with a taken address
mail-attempt-intro = someone (perhaps you) tried to create a Mailer account with this e-mail address, which already has one. No new account was made, and nothing about your account has changed.
mail-attempt-unconfirmed = Your address is not confirmed yet. Confirm it, then sign in:
mail-attempt-confirm-button = Confirm my address
mail-attempt-or-open-link = Or open this link (valid for one hour): { $link }
mail-attempt-if-you = If it was you:
mail-attempt-sign-in = sign in
mail-attempt-forgot = Forgot your password?
mail-attempt-choose-new = Choose a new one
mail-attempt-sign-in-here-text = If it was you, sign in here:
mail-attempt-choose-new-text = Forgot your password? Choose a new one here:
mail-attempt-unconfirmed-text = Your address is not confirmed yet. Confirm it with this link (valid for one hour), then sign in:

## Confirm a reply-to address
mail-reply-to-intro = { $account } wants replies to their Mailer mailings to come to this address ({ $address }).
mail-reply-to-button = Yes, send replies here
mail-reply-to-if-right-text = If that is right, open this link:
mail-reply-to-valid = The link is valid for three days. If you do not know why you got this, ignore it: nothing changes.

## The foot of a mailing's e-mail (messages/template.rs): "{lead} URL" in the text part,
## "{before} <a>{link}</a>{after}" in the HTML part; the owner's language.
mail-foot-lead = To stop getting these e-mails, unsubscribe:
mail-foot-before = To stop getting these e-mails,
mail-foot-link = unsubscribe
mail-foot-after = .
