//! Messages: the subject and body a mailing sends. Every query is scoped to the owner.

pub mod routes;
pub mod service;
pub mod template;
pub mod test_send;

use crate::web::Site;

/// The message pages: list, create, show (with the preview's HTML part on its own), edit,
/// delete.
pub fn routes(site: Site) -> Site {
    site.page("/messages", routes::list_messages)
        .form(
            "/messages/new",
            routes::new_message_form,
            routes::create_message,
        )
        .page("/messages/:id", routes::show_message)
        .page("/messages/:id/preview", routes::show_message_html)
        .action("/messages/:id/test", routes::send_test)
        .form(
            "/messages/:id/edit",
            routes::edit_message_form,
            routes::update_message,
        )
        .form(
            "/messages/:id/delete",
            routes::confirm_delete_message,
            routes::delete_message,
        )
}
