# Flash messages the Rust code builds with values (crate::i18n::phrase): shown once, on the next page.

## Clients
flash-client-added = { $client } added.
flash-client-saved = { $client } saved.
flash-client-deleted = { $client } deleted.
flash-clients-imported = Imported { $inserted } clients. Skipped { $skipped } duplicates and { $invalid } invalid rows.

## Messages
flash-message-added = Message “{ $subject }” added.
flash-message-saved = Message “{ $subject }” saved.
flash-message-deleted = Message “{ $subject }” deleted.
flash-message-test-sent = A test was sent to { $address }.

## Mailings ($mailing: "#7")
flash-mailing-created = Mailing “{ $mailing }” created.
flash-mailing-saved = Mailing “{ $mailing }” saved.
flash-mailing-deleted = Mailing “{ $mailing }” deleted.
flash-mailing-sending = “{ $mailing }” is being sent now.
flash-mailing-still-sending = “{ $mailing }” is still being sent: nothing more was queued.
flash-mailing-enabled = “{ $mailing }” enabled.
flash-mailing-disabled = “{ $mailing }” disabled: nothing new will be sent.

## Suppression list
flash-suppression-added = { $address } is on your suppression list: it will not be mailed.
flash-suppression-removed = { $address } is off your suppression list: your mailings send to it again.

## Accounts
flash-account-registered = Almost there: we sent an e-mail to { $address }. Follow its link, then sign in.
flash-account-confirmed = { $address } is confirmed. You can sign in now.
flash-token-revoked = Token “{ $name }” revoked: it no longer works.
flash-sender-link-sent = Saved. We sent a link to { $address }: replies go there once it is opened.
flash-sender-link-pending = Saved. A link was sent to { $address } a short while ago: open it, or try again later for a new one.

## The admin's actions. Users: $own is 1 when the actor's own account ($me) was skipped,
## $supers how many superusers were skipped (a manager cannot block them), $superusers their addresses.
flash-admin-users-blocked = Blocked { $count } { $count ->
        [one] user
       *[other] users
    }.{ $own ->
        [0] {""}
       *[other] {" "}Skipped: { $me } (your own account).
    }{ $supers ->
        [0] {""}
        [1] {" "}Skipped: { $superusers } (a superuser).
       *[other] {" "}Skipped: { $superusers } (superusers).
    }
flash-admin-users-unblocked = Unblocked { $count } { $count ->
        [one] user
       *[other] users
    }.{ $own ->
        [0] {""}
       *[other] {" "}Skipped: { $me } (your own account).
    }{ $supers ->
        [0] {""}
        [1] {" "}Skipped: { $superusers } (a superuser).
       *[other] {" "}Skipped: { $superusers } (superusers).
    }
flash-admin-mailings-enabled = Enabled { $count } { $count ->
        [one] mailing
       *[other] mailings
    }.
flash-admin-mailings-disabled = Disabled { $count } { $count ->
        [one] mailing
       *[other] mailings
    }.
flash-admin-posts-published = Published { $count } { $count ->
        [one] post
       *[other] posts
    }.
flash-admin-posts-unpublished = Unpublished { $count } { $count ->
        [one] post
       *[other] posts
    }.
