//! Mailings: which message goes to which clients, when and how often. Every query is
//! scoped to the owner.

pub mod report;
pub mod routes;
pub mod service;

use crate::web::Site;

/// The mailing pages: list, create, show (with progress and attempts), edit, enable or
/// disable, send now, delete.
pub fn routes(site: Site) -> Site {
    site.page("/mailings", routes::list_mailings)
        .form(
            "/mailings/new",
            routes::new_mailing_form,
            routes::create_mailing,
        )
        .page("/mailings/:id", routes::show_mailing)
        .form(
            "/mailings/:id/edit",
            routes::edit_mailing_form,
            routes::update_mailing,
        )
        .action("/mailings/:id/toggle", routes::toggle_mailing)
        .action("/mailings/:id/send", routes::send_mailing_now)
        .page("/mailings/:id/progress", routes::mailing_progress)
        .page("/mailings/:id/attempts.csv", routes::export_attempts)
        .form(
            "/mailings/:id/delete",
            routes::confirm_delete_mailing,
            routes::delete_mailing,
        )
}
