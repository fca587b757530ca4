//! Reports (`/reports`) and the user's dashboard (`/dashboard`): the attempt log summed per
//! mailing, per message and per day, for the signed-in user's own data only.

pub mod chart;
pub mod range;
pub mod routes;
pub mod seed;
pub mod service;
