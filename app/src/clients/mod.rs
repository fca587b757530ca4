//! Clients: a user's recipients — list with search, sort, tag filter and pages, forms,
//! CSV import and export; their custom attributes and tags. Every query is scoped to the
//! owner.

pub mod attributes;
pub mod import;
pub mod routes;
pub mod service;
pub mod tags;

pub use attributes::attributes;

use crate::web::Site;

/// The client pages: list, create, edit, delete, CSV import and export.
pub fn routes(site: Site) -> Site {
    site.page("/clients", routes::list_clients)
        .form(
            "/clients/new",
            routes::new_client_form,
            routes::create_client,
        )
        .form(
            "/clients/:id/edit",
            routes::edit_client_form,
            routes::update_client,
        )
        .form(
            "/clients/:id/delete",
            routes::confirm_delete_client,
            routes::delete_client,
        )
        .form(
            "/clients/import",
            routes::import_form,
            routes::preview_import,
        )
        .action("/clients/import/confirm", routes::confirm_import)
        .page("/clients/export.csv", routes::export_clients)
}
