//! Reports (`/reports`) and the user's dashboard (`/dashboard`): the attempt log summed per
//! mailing, per message and per day, for the signed-in user's own data only.

pub mod chart;
pub mod range;
pub mod routes;
pub mod seed;
pub mod service;

use crate::web::Site;

/// The dashboard and the reports (with their CSV export).
pub fn routes(site: Site) -> Site {
    site.page("/dashboard", routes::dashboard)
        .page("/reports", routes::show_reports)
        .page("/reports/export.csv", routes::export_report)
}
